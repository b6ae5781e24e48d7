import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin, childrenOf, isAlive, scratch, timed, waitUntil } from '../helpers.js';

const { dir, write } = scratch('resume');
// sleeps e.ms, answers "r<i>" (a string: an integer would be taken as an exit status)
const spec = write('slow.json', JSON.stringify({
  exec_type: 'node',
  exec_info: { code: 'export const main = async (e) => { await new Promise((r) => setTimeout(r, e.ms ?? 0)); return "r" + e.i; }' },
}));

function items(count: number, ms = 0): string {
  return Array.from({ length: count }, (_, i) => JSON.stringify({ i: i + 1, ms })).join('\n') + '\n';
}

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, 'run', '-s', spec, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function logged(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

// Exactly one result per input line: none lost, none doubled, each the right one
function assertExactlyOnce(file: string, count: number): void {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'the log ends with a whole line');
  const results = logged(file);
  const lines = results.map((r) => r.line as number).sort((a, b) => a - b);
  assert.equal(lines, Array.from({ length: count }, (_, i) => i + 1), 'one result per line');
  for (const r of results) {
    assert.is(r.value, `r${r.line as number}`);
    assert.is((r.data as { i: number }).i, r.line);
  }
}

test('--resume completes a log: the lines in it are skipped, a torn last line is cut, the rest appended', timed(30_000, async () => {
  const data = write('ten.jsonl', items(10));
  const out = path.join(dir, 'ten.results.jsonl');
  const first = cli(['-d', data, '-o', out, '--keep-order']);
  assert.is(first.status, 0, first.stderr);
  // keep 6 whole lines and half of the 7th, as a kill during a write leaves it
  const text = readFileSync(out, 'utf8');
  const cut = text.split('\n').slice(0, 6).join('\n').length + 1 + 20;
  truncateSync(out, cut);
  const r = cli(['-d', data, '-o', out, '--resume']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, 'cut a torn last line (20 bytes)');
  assert.match(r.stderr, 'resuming: 6 results already in');
  assertExactlyOnce(out, 10);
  // the first 6 lines were kept as they were, not run again
  assert.is(readFileSync(out, 'utf8').slice(0, cut - 20), text.slice(0, cut - 20));
  // a finished log: nothing to do, nothing appended
  const again = cli(['-d', data, '-o', out, '--resume']);
  assert.is(again.status, 0, again.stderr);
  assertExactlyOnce(out, 10);
}));

test('without --resume, -o starts the file anew', timed(20_000, async () => {
  const data = write('three.jsonl', items(3));
  const out = write('three.results.jsonl', 'old\n');
  assert.is(cli(['-d', data, '-o', out]).status, 0);
  assertExactlyOnce(out, 3);
}));

test('a changed input line is reported with its line number, exit 2, the log untouched', timed(30_000, async () => {
  const data = write('change.jsonl', items(5));
  const out = path.join(dir, 'change.results.jsonl');
  assert.is(cli(['-d', data, '-o', out]).status, 0);
  const before = readFileSync(out, 'utf8');
  // the same item written differently is not a change: items are compared as parsed JSON
  write('change.jsonl', items(5).replace('{"i":2,"ms":0}', '{ "i": 2, "ms": 0.0 }'));
  assert.is(cli(['-d', data, '-o', out, '--resume']).status, 0);
  write('change.jsonl', items(5).replace('{"i":4,', '{"i":40,'));
  const r = cli(['-d', data, '-o', out, '--resume']);
  assert.is(r.status, 2);
  assert.match(r.stderr, `ResumeError: line 4 of ${data} differs from the item whose result is in ${out}`);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.is(readFileSync(out, 'utf8'), before);
  // an input that lost lines is a changed input too
  write('change.jsonl', items(3));
  const shorter = cli(['-d', data, '-o', out, '--resume']);
  assert.is(shorter.status, 2);
  assert.match(shorter.stderr, 'has results for 2 items that the input no longer has (line 4 of');
}));

// A log of the first `keep` lines of a full run over `data`, and a result for a line the input lacks
function logWithStray(data: string, out: string, keep: number, strayLine: number): string {
  assert.is(cli(['-d', data, '-o', out]).status, 0);
  const kept = logged(out).filter((r) => (r.line as number) <= keep);
  const stray = { line: strayLine, data: { i: strayLine, ms: 0 }, exit: 0, attempts: 1, stdout: '', stderr: '', value: `r${strayLine}` };
  const text = [...kept, stray].map((r) => `${JSON.stringify(r)}\n`).join('');
  writeFileSync(out, text);
  return text;
}

test('a logged line the -d file does not have (past its end, or blank now) stops the run before anything runs', timed(30_000, async () => {
  // more than one read of the input: the end of the input is not seen at once
  const data = write('stray.jsonl', items(5000));
  const out = path.join(dir, 'stray.results.jsonl');
  const text = logWithStray(data, out, 3, 9999);
  const r = cli(['-d', data, '-o', out, '--resume']);
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, `ResumeError: ${out} has results for 1 item that the input no longer has (line 9999 of ${data})`);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.is(readFileSync(out, 'utf8'), text, 'nothing ran: the log is as it was');
  // a logged line that is blank in the input now is missing too
  const blanked = logWithStray(data, out, 6, 9999).split('\n').filter((l) => !l.includes('"line":9999')).join('\n');
  writeFileSync(out, blanked);
  write('stray.jsonl', items(5000).replace('{"i":5,"ms":0}', '  '));
  const b = cli(['-d', data, '-o', out, '--resume']);
  assert.is(b.status, 2, b.stderr);
  assert.match(b.stderr, `has results for 1 item that the input no longer has (line 5 of ${data})`);
  assert.is(readFileSync(out, 'utf8'), blanked);
}));

test('on stdin, a logged line past the input\'s end is found at its end: what ran is written first, then exit 2', timed(30_000, async () => {
  const data = write('stray-stdin.jsonl', items(10, 300));
  const out = path.join(dir, 'stray-stdin.results.jsonl');
  logWithStray(data, out, 3, 50);
  const r = cli(['-o', out, '--resume', '-p', '2'], items(10, 300));
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, `has results for 1 item that the input no longer has (line 50 of stdin)`);
  // lines 4 to 10 ran and every one of their results is in the log, once
  const lines = logged(out).map((l) => l.line as number).sort((a, b) => a - b);
  assert.equal(lines, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50]);
}));

test('results that are not final (cancelled) run again; the log keeps one result per line', timed(20_000, async () => {
  const data = write('cancelled.jsonl', items(4));
  const out = write('cancelled.results.jsonl', [
    '{"line":1,"data":{"i":1,"ms":0},"exit":0,"value":"r1","stdout":"","stderr":""}',
    '{"line":2,"data":{"i":2,"ms":0},"exit":130,"error":{"name":"AbortError","message":"x"},"stdout":"","stderr":"","cancelled":true}',
    '',
  ].join('\n'));
  const r = cli(['-d', data, '-o', out, '--resume']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, 'removed 1 results that were not final');
  assertExactlyOnce(out, 4);
}));

test('a failed result is final: it is not run again and the status stays 1', timed(20_000, async () => {
  const data = write('bad.jsonl', '{"i":1}\nnot json\n{"i":3}\n');
  const out = path.join(dir, 'bad.results.jsonl');
  assert.is(cli(['-d', data, '-o', out]).status, 1);
  const r = cli(['-d', data, '-o', out, '--resume']);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, '1 of 3 items failed');
  assert.is(logged(out).length, 3);
}));

test('usage errors: --resume without -o; a results file that is not a results log', timed(20_000, async () => {
  const data = write('two.jsonl', items(2));
  const noOutput = cli(['-d', data, '--resume']);
  assert.is(noOutput.status, 2);
  assert.is(noOutput.stderr, 'polytask: --resume needs -o FILE: the results file to resume from and append to\n');
  const notLog = write('not-a-log.jsonl', '{"name": "ada"}\n');
  const r = cli(['-d', data, '-o', notLog, '--resume']);
  assert.is(r.status, 2);
  assert.match(r.stderr, 'line 1 has no "line" and "data" fields');
  assert.is(readFileSync(notLog, 'utf8'), '{"name": "ada"}\n');
}));

// The promise: a run stopped at any moment (SIGKILL included) and resumed ends with exactly
// one result per input line. The moment is random; the test holds whatever it is.
test('killed at random moments (SIGKILL, SIGINT, SIGTERM) and resumed: exactly one result per line', timed(150_000, async () => {
  const count = 3000;
  const data = write('many.jsonl', items(count, 1));
  const out = path.join(dir, 'many.results.jsonl');
  for (const signal of ['SIGKILL', 'SIGINT', 'SIGKILL', 'SIGTERM', 'SIGKILL'] as const) {
    const child = spawn(process.execPath, [bin, 'run', '-s', spec, '-d', data, '-o', out, '--resume', '-p', '2', '--pipeline', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    let ended = false;
    const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, sig) => resolve([code, sig]))).finally(() => (ended = true));
    // (a run with nothing left to do may end before it is seen with its children)
    await waitUntil(() => ended || childrenOf(child.pid!).length === 2, 10_000, 'two children');
    const kids = childrenOf(child.pid!);
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 600));
    child.kill(signal);
    const [code, sig] = await exited;
    const expected = signal === 'SIGKILL' ? [null, 'SIGKILL'] : [signal === 'SIGINT' ? 130 : 143, null];
    // the run may have finished first
    if (code !== 0) assert.equal([code, sig], expected, stderr);
    await waitUntil(() => kids.every((pid) => !isAlive(pid)), signal === 'SIGKILL' ? 2000 : 1000, 'children to end');
  }
  const last = cli(['-d', data, '-o', out, '--resume', '-p', '2']);
  assert.is(last.status, 0, last.stderr);
  assertExactlyOnce(out, count);
}));

test('appending a whole line by hand is fine; a doubled result is dropped', timed(20_000, async () => {
  const data = write('twice.jsonl', items(2));
  const out = path.join(dir, 'twice.results.jsonl');
  assert.is(cli(['-d', data, '-o', out]).status, 0);
  appendFileSync(out, `${JSON.stringify(logged(out)[0])}\n`);
  const r = cli(['-d', data, '-o', out, '--resume']);
  assert.is(r.status, 0, r.stderr);
  assertExactlyOnce(out, 2);
}));

test.run();
