import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { task } from '../../src/futures/task.js';
import { map } from '../../src/futures/map.js';
import { AbortError } from '../../src/errors.js';
import { timed } from '../helpers.js';

const square = task(async (x: number) => {
  await new Promise((resolve) => setTimeout(resolve, (x * 37) % 20));
  return x * x;
}, { concurrency: 2 });

test.after(async () => {
  await square.close();
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

test('ordered by default, over a task', timed(20_000, async () => {
  const items = Array.from({ length: 20 }, (_, i) => i);
  assert.equal(await collect(map(square, items, { concurrency: 4 })), items.map((x) => x * x));
}));

test('ordered: false yields in completion order, all of them', timed(20_000, async () => {
  const out = await collect(map(square, [1, 2, 3, 4, 5, 6], { concurrency: 3, ordered: false }));
  assert.equal([...out].sort((a, b) => a - b), [1, 4, 9, 16, 25, 36]);
}));

test('reads the input lazily: at most concurrency items ahead', timed(20_000, async () => {
  let pulled = 0;
  function* numbers() {
    for (let i = 0; i < 50; i++) {
      pulled++;
      yield i;
    }
  }
  let seen = 0;
  for await (const _ of map((x: number) => x, numbers(), { concurrency: 3 })) {
    seen++;
    assert.ok(pulled - seen <= 3, `pulled ${pulled} for ${seen} results`);
  }
}));

test('an error is thrown at its place; the calls in flight are stopped', timed(20_000, async () => {
  const futures: { done(): boolean }[] = [];
  const fail = (x: number) => {
    if (x === 3) return Promise.reject(new Error('three'));
    const f = square(x);
    futures.push(f);
    return f;
  };
  try {
    await collect(map(fail, [1, 2, 3, 4, 5, 6, 7], { concurrency: 3 }));
    assert.unreachable();
  } catch (error) {
    assert.is((error as Error).message, 'three');
  }
  // nothing is left running: each call finished or was cancelled
  assert.ok(futures.length >= 2);
  assert.ok(futures.every((f) => f.done()));
}));

test('leaving the loop early stops the calls still running (a spec task: their children are killed)', timed(20_000, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'polytask-map-'));
  const code = `import { writeFileSync } from 'node:fs';
export async function main(e) {
  await new Promise((r) => setTimeout(r, e.ms));
  writeFileSync(e.file, 'written');
  return e.file;
}`;
  const slowWrite = task({ exec_type: 'node', exec_info: { code } }, { processes: 3 });
  const items = [10, 1000, 1000, 1000].map((ms, i) => ({ ms, file: path.join(dir, `f${i}`) }));
  for await (const first of map(slowWrite, items, { concurrency: 4, ordered: false })) {
    assert.is((first as { value: string }).value, items[0]!.file);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await slowWrite.close();
  assert.ok(items.slice(1).every((item) => !existsSync(item.file)), 'the cancelled calls did not finish');
}));

test('a signal stops it with an AbortError', timed(20_000, async () => {
  const controller = new AbortController();
  const out: number[] = [];
  try {
    for await (const v of map(square, [1, 2, 3, 4, 5], { concurrency: 1, signal: controller.signal })) {
      out.push(v);
      controller.abort('enough');
    }
    assert.unreachable();
  } catch (error) {
    assert.instance(error, AbortError);
    assert.is((error as Error).cause, 'enough', "the cause is the signal's reason");
  }
  assert.equal(out, [1]);
}));

test('unordered: a slow call holds nothing for the results taken while it runs', timed(30_000, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let release = () => {};
  const slow = new Promise<number>((resolve) => (release = () => resolve(-1)));
  const n = 100_000;
  let taken = 0;
  let before = 0;
  let grown = 0;
  const items = (function* () {
    for (let i = 0; i < n; i++) yield i;
  })();
  for await (const value of map((i: number) => (i === 0 ? slow : i), items, { concurrency: 4, ordered: false })) {
    taken++;
    if (taken === 1) {
      gc();
      before = process.memoryUsage().heapUsed;
    }
    if (taken === n - 1) {
      gc();
      grown = process.memoryUsage().heapUsed - before;
      release();
    }
    if (value === -1) assert.is(taken, n);
  }
  assert.is(taken, n);
  // a reaction left on the slow call per result taken held about 400 bytes each: 40 MB here
  assert.ok(grown < 5_000_000, `the heap grew by ${grown} bytes over ${n} results`);
}));

test.run();
