import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { task } from '../../src/futures/task.js';
import { Future } from '../../src/futures/future.js';
import { ProcessPool } from '../../src/pool/process/pool.js';
import { resolveSpec } from '../../src/spec/load.js';
import { AbortError, CancelledError, OptionError, RemoteError, TimeoutError, WorkerExitedError } from '../../src/errors.js';
import type { ItemResult } from '../../src/pool/process/pool.js';
import { spawnSync } from 'node:child_process';
import { fixture, isAlive, repoRoot, timed, waitUntil } from '../helpers.js';
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

  it('a call that runs out of memory fails with WorkerExitedError; the next call works', timed(60_000, async () => {
    const hog = track(task((n: number) => {
      if (n === 0) return 'small';
      const keep: number[][] = [];
      for (;;) keep.push(new Array(1_000_000).fill(n));
    }, { runtime, concurrency: 1, maxOldGenerationSizeMb: 64 }));
    assert.instance(await rejection(hog(1)), WorkerExitedError);
    assert.is(await hog(0), 'small');
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
    // (one call at a time: with calls that wait overlapping, the second would be running too)
    const writeLater = track(task<[string, number], string>({ module: tasksModule, name: 'writeLater' }, { runtime, concurrency: 1, concurrentTasksPerWorker: 1 }));
    const [first, second] = [path.join(scratch, `${runtime}-running`), path.join(scratch, `${runtime}-pending`)];
    const running = writeLater(first, 1000);
    const pending = writeLater(second, 0);
    await waitUntil(() => running.running(), 10_000, 'the first call to start');
    assert.is(pending.state, 'pending');
    assert.ok(pending.cancel());
    assert.ok(running.cancel());
    assert.instance(await rejection(running), CancelledError);
    // the running call would have written its file after 1 s: its worker was stopped
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.not.ok(existsSync(first), 'the running call was stopped');
    assert.not.ok(existsSync(second), 'the pending call never ran');
    assert.is(await writeLater(path.join(scratch, `${runtime}-after`), 0), 'written', 'a new worker runs the next call');
  }));

  it('a signal cancels every unfinished call, and stops the running ones', timed(20_000, async () => {
    const controller = new AbortController();
    const writeLater = track(task<[string, number], string>({ module: tasksModule, name: 'writeLater' }, { runtime, concurrency: 2, signal: controller.signal }));
    const files = [1, 2, 3].map((i) => path.join(scratch, `${runtime}-signal-${i}`));
    const futures = files.map((file) => writeLater(file, 1000));
    await waitUntil(() => futures.filter((f) => f.running()).length >= 2, 10_000, 'two calls to start');
    const reason = new Error('shutting down');
    controller.abort(reason);
    for (const f of futures) assert.ok(f.cancelled());
    const error = await rejection(futures[0]!);
    assert.instance(error, CancelledError);
    assert.instance(error, AbortError, 'a cancel is an AbortError');
    assert.is(error.cause, reason, "its cause is the signal's reason");
    assert.ok(writeLater(path.join(scratch, 'never'), 0).cancelled(), 'calls after the abort are cancelled at once');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(files.every((file) => !existsSync(file)), 'no call wrote its file');
  }));

  it('with({ signal }): one call is cancelled, with its reason as the cause; the others go on', timed(30_000, async () => {
    const writeLater = track(task<[string, number], string>({ module: tasksModule, name: 'writeLater' }, { runtime, concurrency: 2, concurrentTasksPerWorker: 1 }));
    const controller = new AbortController();
    const [mine, other] = [path.join(scratch, `${runtime}-call-signal`), path.join(scratch, `${runtime}-call-other`)];
    const cancelled = writeLater.with({ signal: controller.signal })(mine, 1000);
    const going = writeLater(other, 300);
    await waitUntil(() => cancelled.running(), 10_000, 'the call to start');
    controller.abort('user pressed stop');
    const error = await rejection(cancelled);
    assert.instance(error, CancelledError);
    assert.is(error.cause, 'user pressed stop');
    assert.is(await going, 'written', 'the other call was not touched');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.not.ok(existsSync(mine), 'the cancelled call was stopped');
    const before = AbortSignal.abort(new RangeError('too late'));
    const never = writeLater.with({ signal: before })(path.join(scratch, `${runtime}-never-2`), 0);
    assert.ok(never.cancelled(), 'an aborted signal cancels at once');
    assert.instance((await rejection(never)).cause, RangeError);
  }));

  it('with({ timeout }) sets one call\'s timeout; unknown or bad call options are OptionErrors', timed(30_000, async () => {
    const slow = track(task(async (ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    }, { runtime, concurrency: 1 }));
    assert.instance(await rejection(slow.with({ timeout: 300 })(10_000)), TimeoutError);
    assert.is(await slow.with({})(5), 5);
    assert.throws(() => slow.with({ timout: 5 } as never), (e: Error) => e instanceof OptionError && /timout/.test(e.message) && /timeout/.test(e.message));
    assert.throws(() => slow.with({ signal: 'stop' as never }), (e: Error) => e instanceof OptionError && e.message === 'Expected the `signal` option to be an AbortSignal, got `stop` (string)');
  }));

  it('calls that wait on a promise overlap in their worker, up to concurrentTasksPerWorker', timed(30_000, async () => {
    // each call says how many calls of its worker were waiting at once, at most, so far
    const inFlight = async (ms: number) => {
      const g = globalThis as { inFlight?: number; most?: number };
      g.inFlight = (g.inFlight ?? 0) + 1;
      g.most = Math.max(g.most ?? 0, g.inFlight);
      await new Promise((resolve) => setTimeout(resolve, ms));
      g.inFlight--;
      return g.most;
    };
    const most = async (options: { concurrentTasksPerWorker?: number }, calls: number) => {
      const t = track(task(inFlight, { runtime, concurrency: 1, ...options }));
      return Math.max(...await Promise.all(Array.from({ length: calls }, () => t(40))));
    };
    assert.is(await most({}, 24), 16, 'by default');
    assert.is(await most({ concurrentTasksPerWorker: 3 }, 12), 3);
    assert.is(await most({ concurrentTasksPerWorker: 1 }, 4), 1);
  }));

  it('an argument the runtime cannot send rejects its own future; the pool goes on', timed(30_000, async () => {
    const kind = track(task((x: unknown) => (x instanceof SharedArrayBuffer ? 'shared' : typeof x), { runtime, concurrency: 1 }));
    if (runtime === 'thread') {
      assert.is(await kind(new SharedArrayBuffer(4)), 'shared', 'a thread shares the memory');
    } else {
      // (it used to throw in tinypool's message handler and end this process)
      const error = await rejection(kind(new SharedArrayBuffer(4)));
      assert.instance(error, TypeError);
      assert.match(error.message, 'cannot be sent to a worker process');
      assert.match(error.message, 'SharedArrayBuffer');
      assert.instance(error.cause, Error);
      const back = track(task(() => new SharedArrayBuffer(4), { runtime, concurrency: 1 }));
      const returned = await rejection(back());
      assert.instance(returned, TypeError);
      assert.match(returned.message, 'cannot be sent back');
    }
    assert.equal(await Promise.all([kind(1), kind('a'), kind(new Int32Array(new SharedArrayBuffer(8)))]), ['number', 'string', 'object']);
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
specs('idle children of a spec task do not keep the process alive, even after a crash', timed(20_000, async () => {
  const script = `
    import { task } from './dist/src/index.js';
    const t = task({ exec_type: 'node', exec_info: { code: 'export function main(e) { if (e === 1) process.exit(3); return e; }' } }, { processes: 1 });
    const failed = await t(1).then(() => 'ok', (e) => e.name);
    console.log(failed, (await t(2)).value);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 15_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'WorkerExitedError 2');
}));

specs('the process pool does not submit a call cancelled before it runs, and cancels one queued', timed(20_000, async () => {
  const executor = new ProcessPool(resolveSpec({ exec_type: 'node', exec_info: { code: 'export const main = (e) => e' } }), { processes: 1 });
  made.push(executor);
  const early = new Future([1]);
  early.cancel();
  const reason = await executor.run(1, { signal: early.signal, onAbort: (l: () => void) => early.onAbort(l) }).then(() => 'ran', (e: unknown) => e);
  assert.instance(reason, CancelledError);
  assert.equal(executor.pids(), [], 'no child was started for it');
  const later = new Future([2]);
  const running = executor.run(2, { signal: later.signal, onAbort: (l: () => void) => later.onAbort(l) }).then(() => 'ran', (e: unknown) => (e as Error).name);
  later.cancel();
  assert.is(await running, 'CancelledError');
  assert.equal((await executor.run(3, { signal: new AbortController().signal })).value, 3, 'the executor goes on');
}));

specs('await using: a spec task\'s children are ended at the end of the block', timed(20_000, async () => {
  let pids: number[];
  {
    await using t = task({ exec_type: 'node', exec_info: { code: 'export const main = (e) => e' } }, { processes: 1 });
    assert.is((await t(7)).value, 7);
    pids = (t.pool as ProcessPool).pids();
    assert.is(pids.length, 1);
  }
  for (const pid of pids) assert.not.ok(isAlive(pid), `child ${pid} is gone when the block ends`);
}));

specs.run();

const options = suite('task() options');
options('bad options name the option and the value', () => {
  assert.throws(() => task((x: number) => x, { concurrency: 0 }), (e: Error) => e instanceof OptionError && e.message.includes('`concurrency` option to be a positive integer, got `0`'));
  assert.throws(() => task((x: number) => x, { retries: -1 }), (e: Error) => e instanceof OptionError && e.message.includes('`retries`'));
  assert.throws(() => task((x: number) => x, { runtime: 'gpu' as 'thread' }), (e: Error) => e instanceof OptionError && e.message.includes('gpu'));
  assert.throws(() => task((x: number) => x, { concurrentTasksPerWorker: 0 }), (e: Error) => e instanceof OptionError && e.message.includes('`concurrentTasksPerWorker` option to be a positive integer, got `0`'));
});
options.run();
