import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { countItems, formatProgress } from '../../src/cli/progress.js';
import { bin, fixture, scratch, timed } from '../helpers.js';

const { dir, write } = scratch('progress');
const nodeSpec = fixture('specs/node.json');

function cli(args: string[], input?: string) {
  return spawnSync(process.execPath, [bin, 'run', '-s', nodeSpec, '--handler', 'identity', ...args], { input, encoding: 'utf8', timeout: 30_000 });
}

const items = Array.from({ length: 20 }, (_, i) => `"item ${i}"`).join('\n') + '\n';

test('--progress with stderr piped: plain lines without escape codes, the last with the total; stdout only JSON lines', timed(20_000, async () => {
  const data = write('twenty.jsonl', `${items}\n\n`);
  const r = cli(['-d', data, '--progress']);
  assert.is(r.status, 0, r.stderr);
  // the last counts are written when the run ends, with the total counted from the file
  assert.match(r.stderr, /^polytask: 20\/20 \(100%\) · \d+ items\/s · 0 failed · 0:\d\d elapsed\n$/m);
  assert.not.match(r.stderr, /[\x1b\r]/, 'no escape codes, no carriage returns');
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.is(lines.length, 20);
  for (const line of lines) assert.type((JSON.parse(line) as { line: number }).line, 'number');
  assert.not.match(r.stdout, 'polytask');
}));

test('--progress with stderr piped on a longer run: a plain line every 5 s, then the last', timed(40_000, async () => {
  // 60 items of 100 ms, one at a time (a blocking sleep): about 6 s
  const code = 'export const main = (ms) => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); return "slept"; }';
  const spec = write('sleep.json', JSON.stringify({ exec_type: 'node', exec_info: { code } }));
  const data = write('slow.jsonl', Array.from({ length: 60 }, () => '100').join('\n'));
  const r = spawnSync(process.execPath, [bin, 'run', '-s', spec, '-p', '1', '-d', data, '--progress'], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.ok(lines.length >= 2, r.stderr);
  assert.match(lines[0]!, /^polytask: \d+\/60 \(\d+%\) · \d+ items\/s · 0 failed · 0:0[5-9] elapsed · ETA 0:\d\d$/);
  assert.match(lines.at(-1)!, /^polytask: 60\/60 \(100%\) · /);
  assert.not.match(r.stderr, /[\x1b\r]/);
}));

test('reading stdin the total is unknown: count, rate, failures, elapsed', timed(20_000, async () => {
  const r = spawnSync(process.execPath, [bin, 'run', '-s', nodeSpec, '--progress'], { input: '"a"\n"crash"\n"b"\n', encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 1);
  assert.match(r.stderr, /polytask: 3 done · \d+ items\/s · 1 failed · 0:\d\d elapsed/);
}));

test('off by default when stderr is not a terminal, and with --no-progress', timed(20_000, async () => {
  const data = write('off.jsonl', items);
  for (const args of [['-d', data], ['-d', data, '--no-progress']]) {
    const r = cli(args);
    assert.is(r.status, 0);
    assert.is(r.stderr, '');
  }
}));

// The lines drawn on a terminal: what script(1) recorded, split at each redraw
function drawn(typescript: string): string[] {
  return typescript.split(/\r\x1b\[K|\r?\n/).filter((line) => line.startsWith('polytask'));
}

const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
const noScript = script.error === undefined ? undefined : `script(1) not found (${script.error.message})`;
if (noScript !== undefined) console.log(`skip the terminal tests: ${noScript}`);
else {
  const data = write('tty.jsonl', items);
  const out = path.join(dir, 'tty.results.jsonl');
  const onTerminal = (size: string, extra: string) => spawnSync('script', ['-qfec', `stty ${size}; ${process.execPath} ${bin} run -s ${nodeSpec} --handler identity -d ${data} ${extra}`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });

  test('on by default on a terminal (script(1) gives one): a bar with percent, done/total, rate, elapsed, fitted to the width', timed(30_000, async () => {
    const on = onTerminal('rows 24 cols 120', `-o ${out}`);
    assert.is(on.status, 0, on.stdout);
    const lines = drawn(on.stdout);
    assert.ok(lines.length >= 1, on.stdout);
    assert.match(lines.at(-1)!, /^polytask \[█{30}\] 20\/20 \(100%\) · \d+ items\/s · 0 failed · 0:\d\d elapsed$/);
    for (const line of lines) assert.ok(line.length < 120, `fits 120 columns: ${line}`);
    assert.is(readFileSync(out, 'utf8').split('\n').filter(Boolean).length, 20);
  }));

  test('a terminal that reports width 0 gets 80 columns; a narrow one the words without the bar, cut to fit', timed(30_000, async () => {
    const zero = onTerminal('rows 24 cols 0', `-o ${out}`);
    assert.is(zero.status, 0, zero.stdout);
    const wide = drawn(zero.stdout);
    assert.match(wide.at(-1)!, /^polytask \[█+\] 20\/20 \(100%\)/);
    for (const line of wide) assert.ok(line.length < 80, `fits 80 columns: ${line}`);
    const narrow = drawn(onTerminal('rows 24 cols 40', `-o ${out}`).stdout);
    assert.match(narrow.at(-1)!, /^polytask: 20\/20 \(100%\) · /);
    for (const line of narrow) assert.ok(line.length <= 39, `fits 40 columns: ${line}`);
  }));

  test('--no-progress turns it off; off when the results go to the terminal too', timed(30_000, async () => {
    const off = onTerminal('rows 24 cols 120', `-o ${out} --no-progress`);
    assert.is(off.status, 0);
    assert.not.match(off.stdout, 'polytask');
    // results written to the terminal too: no progress line to tear them
    const shared = onTerminal('rows 24 cols 120', '');
    assert.is(shared.status, 0);
    assert.match(shared.stdout, '"data":"item 19"');
    assert.not.match(shared.stdout, 'polytask');
  }));
}

test('the line: done/total, resumed, rate, failures, elapsed, ETA; with a width, a bar', () => {
  const p = { done: 1500, failed: 3, skipped: 1000, total: 3000, itemsPerSecond: 250.4, etaSeconds: 6, elapsedMs: 2000 };
  assert.is(formatProgress(p), 'polytask: 1,500/3,000 (50%) · 1,000 resumed · 250 items/s · 3 failed · 0:02 elapsed · ETA 0:06');
  assert.is(formatProgress(p, 140), `polytask [${'█'.repeat(15)}${'░'.repeat(15)}] 1,500/3,000 (50%) · 1,000 resumed · 250 items/s · 3 failed · 0:02 elapsed · ETA 0:06`);
  assert.is(formatProgress(p, 60), 'polytask: 1,500/3,000 (50%) · 1,000 resumed · 250 items/s · ');
  assert.is(formatProgress({ done: 7, failed: 0, skipped: 0, total: undefined, itemsPerSecond: 0, etaSeconds: undefined, elapsedMs: 61_500 }, 119), 'polytask: 7 done · 0 items/s · 0 failed · 1:01 elapsed');
  assert.match(formatProgress({ done: 0, failed: 0, skipped: 0, total: 10, itemsPerSecond: 1, etaSeconds: 3724.2, elapsedMs: 1 }), 'ETA 1:02:05');
});

test('countItems counts non-blank lines, with or without a last end-of-line', async () => {
  assert.is(await countItems(write('c1', '1\n2\n\n3')), 3);
  assert.is(await countItems(write('c2', '1\r\n\r\n2\r\n')), 2);
  assert.is(await countItems(write('c3', '')), 0);
  assert.is(await countItems(write('c4', `${'x'.repeat(3_000_000)}\n\n${'y'.repeat(10)}\n`)), 2);
});

test.run();
