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

test('--progress with stderr piped: counts on stderr, stdout only JSON lines', timed(20_000, async () => {
  const data = write('twenty.jsonl', `${items}\n\n`);
  const r = cli(['-d', data, '--progress']);
  assert.is(r.status, 0, r.stderr);
  // the last counts are drawn when the run ends, with the total counted from the file
  assert.match(r.stderr, /polytask: 20\/20 \(100%\) · \d+ items\/s · 0 failed/);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.is(lines.length, 20);
  for (const line of lines) assert.type((JSON.parse(line) as { line: number }).line, 'number');
  assert.not.match(r.stdout, 'polytask');
}));

test('reading stdin the total is unknown; failures are counted', timed(20_000, async () => {
  const r = spawnSync(process.execPath, [bin, 'run', '-s', nodeSpec, '--progress'], { input: '"a"\n"crash"\n"b"\n', encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 1);
  assert.match(r.stderr, /polytask: 3 done · \d+ items\/s · 1 failed/);
}));

test('off by default when stderr is not a terminal, and with --no-progress', timed(20_000, async () => {
  const data = write('off.jsonl', items);
  for (const args of [['-d', data], ['-d', data, '--no-progress']]) {
    const r = cli(args);
    assert.is(r.status, 0);
    assert.is(r.stderr, '');
  }
}));

test('on by default on a terminal (script(1) gives one) unless the results go there too; --no-progress turns it off', timed(30_000, async () => {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined) {
    console.log(`skip: script(1) not found (${probe.error.message})`);
    return;
  }
  const data = write('tty.jsonl', items);
  const out = path.join(dir, 'tty.results.jsonl');
  const run = (extra: string) => spawnSync('script', ['-qfec', `stty rows 24 cols 120; ${process.execPath} ${bin} run -s ${nodeSpec} --handler identity -d ${data} ${extra}`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
  const on = run(`-o ${out}`);
  assert.is(on.status, 0, on.stdout);
  assert.match(on.stdout, /polytask: 20\/20 \(100%\)/);
  assert.is(readFileSync(out, 'utf8').split('\n').filter(Boolean).length, 20);
  const off = run(`-o ${out} --no-progress`);
  assert.is(off.status, 0);
  assert.not.match(off.stdout, 'polytask:');
  // results written to the terminal too: no progress line to tear them
  const shared = run('');
  assert.is(shared.status, 0);
  assert.match(shared.stdout, '"data":"item 19"');
  assert.not.match(shared.stdout, 'polytask:');
}));

test('the line: done/total, resumed, rate, failures, ETA', () => {
  const line = formatProgress({ done: 1500, failed: 3, skipped: 1000, total: 3000, itemsPerSecond: 250.4, etaSeconds: 6, elapsedMs: 2000 });
  assert.is(line, 'polytask: 1,500/3,000 (50%) · 1,000 resumed · 250 items/s · 3 failed · ETA 0:06');
  assert.is(formatProgress({ done: 7, failed: 0, skipped: 0, total: undefined, itemsPerSecond: 0, etaSeconds: undefined, elapsedMs: 1 }), 'polytask: 7 done · 0 items/s · 0 failed');
  assert.match(formatProgress({ done: 0, failed: 0, skipped: 0, total: 10, itemsPerSecond: 1, etaSeconds: 3725, elapsedMs: 1 }), 'ETA 1:02:05');
});

test('countItems counts non-blank lines, with or without a last end-of-line', async () => {
  assert.is(await countItems(write('c1', '1\n2\n\n3')), 3);
  assert.is(await countItems(write('c2', '1\r\n\r\n2\r\n')), 2);
  assert.is(await countItems(write('c3', '')), 0);
  assert.is(await countItems(write('c4', `${'x'.repeat(3_000_000)}\n\n${'y'.repeat(10)}\n`)), 2);
});

test.run();
