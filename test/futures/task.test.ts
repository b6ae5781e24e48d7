import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { task } from '../../src/futures/task.js';
import { CancelledError, OptionError, RemoteError, TimeoutError, WorkerExitedError } from '../../src/errors.js';
import type { ItemResult } from '../../src/pool/process-pool.js';
import { fixture, timed } from '../helpers.js';
import { runtimes } from '../runtimes.js';

const tasksModule = new URL(`file://${fixture('js/tasks.mjs')}`);
const futuresModule = new URL(`file://${fixture('js/futures.mjs')}`);
const scratch = mkdtempSync(path.join(tmpdir(), 'polytask-task-'));
const made: { close(): Promise<void> }[] = [];
function track<T extends { close(): Promise<void> }>(t: T): T {
  made.push(t);
  return t;
}
async function closeAll(): Promise<void> {
  await Promise.all(made.splice(0).map((t) => t.close()));
}
async function rejection(promise: PromiseLike<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

for (const runtime of ['thread', 'process'] as const) {
  const it = suite(`task() on the ${runtime} runtime`);
  it.after.each(closeAll);

  it('an inline function runs from its source and returns a Future', timed(20_000, async () => {
    const double = track(task((x: number) => x * 2, { runtime, concurrency: 2 }));
    const futures = [1, 2, 3].map((x) => double(x));
    assert.equal(futures.map((f) => f.args), [[1], [2], [3]]);
    assert.equal(await Promise.all(futures), [2, 4, 6]);
    assert.ok(futures.every((f) => f.done() && !f.cancelled()));
  }));

  it('a closure over the enclosing scope is explained', timed(20_000, async () => {
    const factor = 3;
    const times = track(task((x: number) => x * factor, { runtime, concurrency: 1 }));
    const error = await rejection(times(2));
    assert.match(error.message, 'factor');
    assert.match(error.message, 'module');
  }));

  it('a module task keeps its module state, imports and closures', timed(20_000, async () => {
    const increment = track(task<[], number>({ module: tasksModule, name: 'increment' }, { runtime, concurrency: 1 }));
    assert.equal([await increment(), await increment(), await increment()], [1, 2, 3]);
  }));

  it('errors keep class name, message, remote stack, cause chain and custom properties', timed(20_000, async () => {
    const failDeep = track(task({ module: tasksModule, name: 'failDeep' }, { runtime, concurrency: 1 }));
    const error = await rejection(failDeep()) as Error & { details?: unknown; code?: string };
    assert.instance(error, Error);
    assert.is(error.name, 'ValidationError');
    assert.is(error.message, 'bad input');
    assert.equal(error.details, { a: 1 });
    assert.is(error.code, 'E_VALIDATION');
    assert.match(error.stack ?? '', 'tasks.mjs');
    const middle = error.cause as Error;
    assert.is(middle.name, 'RangeError');
    const root = middle.cause as Error & { code?: string; errno?: number };
    assert.is(root.code, 'ENOENT');
    assert.is(root.errno, -2);
  }));

  it('process.exit() in a task rejects only its own future with WorkerExitedError', timed(30_000, async () => {
    const risky = track(task((x: number) => {
      if (x === 2) process.exit(9);
      return x;
    }, { runtime, concurrency: 2 }));
    const [a, b, c] = [1, 2, 3].map((x) => risky(x));
    assert.is(await a, 1);
    assert.instance(await rejection(b!), WorkerExitedError);
    assert.is(await c, 3);
    assert.is(await risky(4), 4);
  }));

  it('timeout stops the call with TimeoutError; the next call gets a new worker', timed(30_000, async () => {
    const slow = track(task(async (ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    }, { runtime, concurrency: 2, timeout: 1500 }));
    assert.instance(await rejection(slow(10_000)), TimeoutError);
    assert.is(await slow(10), 10);
  }));

  it('retries run a call again after its worker died', timed(30_000, async () => {
    const crashOnce = task<[string], string>({ module: futuresModule, name: 'crashOnce' }, { runtime, concurrency: 1, retries: 1 });
    track(crashOnce);
    assert.is(await crashOnce(path.join(scratch, `${runtime}-retry`)), 'second attempt');
    const noRetry = track(task<[string], string>({ module: futuresModule, name: 'crashOnce' }, { runtime, concurrency: 1 }));
    assert.instance(await rejection(noRetry(path.join(scratch, `${runtime}-no-retry`))), WorkerExitedError);
  }));

  it('cancel(): a pending call never starts; a running one is stopped', timed(30_000, async () => {
    const slow = track(task(async (ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    }, { runtime, concurrency: 1 }));
    const running = slow(10_000);
    const pending = slow(10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(running.running());
    assert.is(pending.state, 'pending');
    assert.ok(pending.cancel());
    assert.ok(running.cancel());
    assert.instance(await rejection(running), CancelledError);
    assert.is(await slow(5), 5, 'the worker was replaced');
  }));

  it('a signal cancels every unfinished call', timed(20_000, async () => {
    const controller = new AbortController();
    const slow = track(task(async (ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    }, { runtime, concurrency: 2, signal: controller.signal }));
    const futures = [5_000, 5_000, 5_000].map((ms) => slow(ms));
    controller.abort();
    for (const f of futures) assert.ok(f.cancelled());
    assert.ok(slow(1).cancelled(), 'calls after the abort are cancelled at once');
  }));

  it.run();
}

const specs = suite('task() over a job spec (the cross-language pool)');
specs.after.each(closeAll);
for (const runtime of runtimes.filter((r) => r.missing === undefined && r.name !== 'python2')) {
  specs(`${runtime.name}: futures resolve with the item's result; an exception rejects with a RemoteError`, timed(20_000, async () => {
    const double = track(task({ exec_type: runtime.name, exec_info: { code: { type: 'path', data: runtime.file }, handler: 'double' } }, { processes: 2 }));
    const results = await Promise.all([1, 2, 3].map((x) => double(x))) as ItemResult[];
    assert.equal(results.map((r) => r.value), [2, 4, 6]);
    const fails = track(task({ exec_type: runtime.name, exec_info: { code: { type: 'path', data: runtime.file }, handler: 'fails' } }, { processes: 1 }));
    const error = await rejection(fails(1)) as RemoteError;
    assert.instance(error, RemoteError);
    assert.is(error.type, runtime.name === 'node' ? 'RangeError' : 'ZeroDivisionError');
    assert.ok(error.traceback.length > 0);
  }));
}
specs.run();

const options = suite('task() options');
options('bad options name the option and the value', () => {
  assert.throws(() => task((x: number) => x, { concurrency: 0 }), (e: Error) => e instanceof OptionError && e.message.includes('`concurrency` option to be a positive integer, got `0`'));
  assert.throws(() => task((x: number) => x, { retries: -1 }), (e: Error) => e instanceof OptionError && e.message.includes('`retries`'));
  assert.throws(() => task((x: number) => x, { runtime: 'gpu' as 'thread' }), (e: Error) => e instanceof OptionError && e.message.includes('gpu'));
});
options.run();
