import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { InOrder, windowFactor } from '../../src/job/stream.js';
import { bin, scratch, timed } from '../helpers.js';
import { bigResultsSpec, resultBytes, waitUntilHeld } from '../cli/big-results.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('results leave in input order, each as soon as all before it have', () => {
  const order = new InOrder<string>();
  const out: string[] = [];
  order.add(2, 'c', out);
  order.add(1, 'b', out);
  assert.equal(out, []);
  order.add(0, 'a', out);
  assert.equal(out, ['a', 'b', 'c']);
  order.add(3, 'd', out);
  assert.equal(out, ['a', 'b', 'c', 'd']);
});

test('a window that never empties over a long run (the front is cut as it goes)', () => {
  const order = new InOrder<number>();
  const out: number[] = [];
  // odd results run two places ahead of the even ones: 1, 3, 0, 5, 2, 7, 4, ...
  const n = 10_000;
  const arrival = [1];
  for (let k = 0; 2 * k < n; k++) {
    if (2 * k + 3 < n) arrival.push(2 * k + 3);
    arrival.push(2 * k);
  }
  assert.equal([...arrival].sort((a, b) => a - b), range(n));
  let neverEmpty = true;
  for (const [step, index] of arrival.entries()) {
    order.add(index, index, out);
    // fewer out than added: some result is waiting
    if (step < arrival.length - 1 && out.length === step + 1) neverEmpty = false;
  }
  assert.ok(neverEmpty, 'some result waited at every step');
  assert.equal(out, range(n));
});

test('one straggler holds thousands back, then lets them all out; values may be undefined', () => {
  const order = new InOrder<number | undefined>();
  const out: (number | undefined)[] = [];
  for (let i = 5000; i >= 1; i--) order.add(i, i % 7 === 0 ? undefined : i, out);
  assert.equal(out, []);
  order.add(0, 0, out);
  assert.equal(out, range(5001).map((i) => (i % 7 === 0 && i > 0 ? undefined : i)));
});

// `polytask run -p 2 --pipeline 4` (a capacity of 8 items) over `count` items written to its
// stdin at once (one chunk of input), its stdout not read until `read()`
function bigRun(spec: string, count: number, extra: string[] = []) {
  const child = spawn(process.execPath, [bin, 'run', '-s', spec, '-p', '2', '--pipeline', '4', ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(Array.from({ length: count }, (_, i) => `${i}\n`).join(''));
  const chunks: Buffer[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    read: () => child.stdout.on('data', (c: Buffer) => chunks.push(c)),
    // after a failed check: the run must not outlive the test
    kill: () => child.kill('SIGKILL'),
    exited,
    stderr: () => stderr,
    results: () => Buffer.concat(chunks).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { line: number; value: { item: number } }),
  };
}

const { dir } = scratch('window');
const window = 8 * windowFactor;
const items = 2000;

test('--keep-order, a slow first item: no more items are read than the window holds', timed(60_000, async () => {
  const big = bigResultsSpec(dir, 'slow-first', true);
  const run = bigRun(big.spec, items, ['--keep-order']);
  try {
    run.read();
    // item 0 holds every result back: the run stops reading at the window, not at the chunk
    const started = await waitUntilHeld(big, 500, 30_000);
    assert.ok(started <= window, `${started} items started while item 0 ran; the window is ${window}`);
    assert.equal(run.results(), []);
    big.release();
    assert.is(await run.exited, 0, run.stderr());
    assert.equal(run.results().map((r) => r.value.item), range(items));
  } finally {
    run.kill();
  }
}));

test('a stdout nobody reads: no more items are read than the window and the pipe hold', timed(60_000, async () => {
  const big = bigResultsSpec(dir, 'no-reader', false);
  const run = bigRun(big.spec, items);
  try {
    const started = await waitUntilHeld(big, 500, 30_000);
    // the results that fit in the pipe and the stream buffers on both sides (under half a MB)
    const buffered = Math.ceil((512 * 1024) / resultBytes);
    assert.ok(started <= window + buffered, `${started} items started with stdout not read; the window is ${window}, the buffers hold some ${buffered}`);
    run.read();
    assert.is(await run.exited, 0, run.stderr());
    assert.equal(run.results().map((r) => r.value.item).sort((a, b) => a - b), range(items));
  } finally {
    run.kill();
  }
}));

test.run();
