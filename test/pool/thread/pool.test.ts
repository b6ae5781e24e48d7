import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PoolClosedError, TimeoutError, WorkerExitedError } from '../../../src/errors.js';
import type { RunOptions } from '../../../src/pool/executor.js';
import { ThreadPool, type JsTarget, type ThreadPoolOptions } from '../../../src/pool/thread/pool.js';
import { fixture, isAlive, timed } from '../../helpers.js';

type Failure = { name: string; message: string; stack?: string } & Record<string, any>;
const nobody = new AbortController().signal;
const scratch = mkdtempSync(path.join(tmpdir(), 'polytask-threads-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A source task from a function (it is sent as text, without its closure)
function source(fn: (...args: any[]) => unknown): JsTarget {
  return { kind: 'source', source: fn.toString() };
}

// A module task from test/fixtures/js
function task(name: string, file = 'tasks.mjs'): JsTarget {
  return { kind: 'module', url: pathToFileURL(fixture(`js/${file}`)).href, name };
}

// The error a promise rejects with
async function rejection(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  assert.unreachable('the call should have failed');
  throw new Error('unreachable');
}

for (const runtime of ['thread', 'process'] as const) {
  const it = suite(`ThreadPool on ${runtime === 'thread' ? 'worker threads' : 'child processes'}`);
  const pools: ThreadPool[] = [];
  const pool = (options: ThreadPoolOptions = {}) => {
    const p = new ThreadPool({ runtime, concurrency: 2, ...options });
    pools.push(p);
    return p;
  };
  const call = (p: ThreadPool, target: JsTarget, args: unknown[] = [], options: Partial<RunOptions> = {}) =>
    p.run({ target, args }, { signal: nobody, ...options });
  // Which worker runs calls now (the pool must have concurrency 1)
  const workerOf = async (p: ThreadPool) => JSON.stringify(await call(p, task('whereAmI')));
  it.after.each(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });

  it('runs arrow, function and async function sources with structured values', timed(20_000, async () => {
    const p = pool();
    assert.is(await call(p, source((x: number) => x + 1), [1]), 2);
    assert.is(await call(p, source(function twice(x: number) { return x * 2; }), [4]), 8);
    assert.is(await call(p, source(async (a: number, b: number) => { await new Promise((r) => setTimeout(r, 5)); return a + b; }), [2, 3]), 5);
    const value = { when: new Date(0), map: new Map([['a', 1]]), big: 10n, nested: [{ none: undefined }] };
    assert.equal(await call(p, source((v: unknown) => v), [value]), value);
  }));

  it('compiles a source once per worker and caches it by its text', timed(20_000, async () => {
    const p = pool({ concurrency: 1 });
    const counter: JsTarget = { kind: 'source', source: 'function counter() { counter.calls = (counter.calls || 0) + 1; return counter.calls; }' };
    assert.equal([await call(p, counter), await call(p, counter), await call(p, counter)], [1, 2, 3]);
    assert.is(await call(p, { kind: 'source', source: `${counter.source} ` }), 1, 'another text, another function');
  }));

  it('a source that uses its closure names the variable; bad sources and values fail clearly', timed(20_000, async () => {
    const p = pool();
    const factor = 3;
    const error = await rejection(call(p, source((x: number) => x * factor), [2]));
    assert.is(error.name, 'Error');
    assert.match(error.message, 'refers to `factor` from its enclosing scope, which is not available in the worker');
    assert.match(error.message, 'module task ({ module, name })');
    assert.match(error.message, 'argument');
    assert.instance(error.cause, ReferenceError);
    assert.is(error.cause.message, 'factor is not defined');
    const other = await rejection(call(p, source(() => globalThis.eval('no' + 'pe'))));
    assert.is(other.name, 'ReferenceError', 'a name the source does not use is left alone');
    assert.is((await rejection(call(p, { kind: 'source', source: 'method() {}' }))).name, 'SyntaxError');
    assert.match((await rejection(call(p, source(() => () => 1)))).message, 'returned a function');
    const uncopyable = await rejection(call(p, source(() => ({ callback: () => 1 }))));
    assert.is(uncopyable.name, 'TypeError', 'a clear error, not a dead worker');
    assert.match(uncopyable.message, 'cannot be sent back');
    const uncloned = await rejection(call(p, source((f: unknown) => f), [() => 1]));
    // a child process gets its arguments through Node's advanced serialization: checked before they go
    assert.is(uncloned.name, runtime === 'thread' ? 'DataCloneError' : 'TypeError');
    assert.is(await call(p, source((x: number) => x + 1), [1]), 2);
  }));

  it('module tasks: named and default exports, state kept per worker, a missing export named', timed(20_000, async () => {
    const p = pool({ concurrency: 1 });
    assert.equal([await call(p, task('increment')), await call(p, task('increment')), await call(p, task('increment'))], [1, 2, 3]);
    assert.is(await call(p, task('triple', 'default-export.mjs'), [4]), 12);
    assert.is(await call(p, { kind: 'module', url: fixture('js/tasks.mjs'), name: 'add' }, [2, 3]), 5, 'a path works too');
    for (const name of ['nope', 'notAFunction']) {
      const error = await rejection(call(p, task(name)));
      assert.match(error.message, `no function export \`${name}\``);
      assert.match(error.message, 'tasks.mjs');
    }
    assert.is(await call(p, task('increment')), 4, 'a failed call does not reset the module');
    // calls of a module that cannot be imported, handed over together: each fails, none waits forever
    const nowhere: JsTarget = { kind: 'module', url: pathToFileURL(fixture('js/no-such-module.mjs')).href, name: 'x' };
    const missing = await Promise.allSettled([1, 2, 3].map(() => call(p, nowhere)));
    assert.equal(missing.map((r) => (r.status === 'rejected' ? (r.reason as Failure).code : 'ok')), ['ERR_MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND']);
  }));

  it('errors keep their class name, message, remote stack, cause chain and own properties', timed(20_000, async () => {
    const p = pool();
    const error = await rejection(call(p, task('failDeep')));
    assert.instance(error, Error);
    assert.is(error.name, 'ValidationError');
    assert.is(error.message, 'bad input');
    assert.match(error.stack!, 'failDeep');
    assert.match(error.stack!, 'tasks.mjs');
    assert.equal(error.details, { a: 1 });
    assert.is(error.code, 'E_VALIDATION');
    assert.instance(error.cause, RangeError);
    assert.is(error.cause.message, 'index out of range');
    assert.instance(error.cause.cause, Error);
    assert.equal([error.cause.cause.message, error.cause.cause.code, error.cause.cause.errno, error.cause.cause.path], ['disk gone', 'ENOENT', -2, '/nowhere']);
    assert.instance(await rejection(call(p, source(() => { throw new RangeError('too far'); }))), RangeError);
  }));

  it('process.exit() fails only its own call with WorkerExitedError; the worker is replaced', timed(30_000, async () => {
    const p = pool();
    const slow = call(p, source(async () => { await new Promise((r) => setTimeout(r, 500)); return 'slow'; }));
    const exited = await rejection(call(p, source(() => { process.exit(3); })));
    assert.instance(exited, WorkerExitedError);
    assert.is(exited.exitCode, 3);
    assert.is(await slow, 'slow');
    const values = await Promise.all([1, 2, 3, 4, 5].map((x) => call(p, source((y: number) => y * 2), [x])));
    assert.equal(values, [2, 4, 6, 8, 10]);
    assert.ok(p.threads <= 2);
    const single = pool({ concurrency: 1 });
    const before = await workerOf(single);
    assert.instance(await rejection(call(single, source(() => process.exit()))), WorkerExitedError);
    assert.is.not(await workerOf(single), before, 'a new worker');
  }));

  it('an exception thrown outside the call\'s promise fails it with WorkerExitedError', timed(30_000, async () => {
    const p = pool();
    const error = await rejection(call(p, source(() => new Promise((resolve) => {
      setTimeout(() => { throw new RangeError('late failure'); }, 10);
      setTimeout(resolve, 2000);
    }))));
    assert.instance(error, WorkerExitedError);
    assert.is(error.cause.name, 'RangeError');
    assert.match(error.message, 'late failure');
    assert.is(await call(p, source((x: number) => x + 1), [1]), 2);
  }));

  it('a call that runs out of memory fails with WorkerExitedError; the next call works', timed(60_000, async () => {
    const p = pool({ concurrency: 1, maxOldGenerationSizeMb: 48 });
    const error = await rejection(call(p, source(() => {
      const keep: number[][] = [];
      for (;;) keep.push(new Array(1e6).fill(Math.random()));
    })));
    assert.instance(error, WorkerExitedError);
    assert.match(error.message, runtime === 'thread' ? 'out of memory' : 'SIGABRT');
    assert.is(await call(p, source((x: number) => x + 1), [1]), 2);
  }));

  it('a worker that cannot even start fails the call instead of hanging it', timed(30_000, async () => {
    const error = await rejection(call(pool({ concurrency: 1, maxOldGenerationSizeMb: 1 }), source((x: number) => x + 1), [1]));
    assert.instance(error, WorkerExitedError);
    assert.match(error.message, 'no worker could start');
  }));

  it('a timeout stops and replaces the worker and rejects with TimeoutError', timed(30_000, async () => {
    const p = pool({ concurrency: 1 });
    const before = await workerOf(p);
    const error = await rejection(call(p, source(() => new Promise(() => {})), [], { timeout: 300 }));
    assert.instance(error, TimeoutError);
    assert.is(error.timeout, 300);
    assert.instance(await rejection(call(p, source(() => { for (;;); }), [], { timeout: 300 })), TimeoutError, 'a busy loop too');
    assert.is(await call(p, source((x: number) => x + 1), [1], { timeout: 5000 }), 2);
    assert.is.not(await workerOf(p), before);
  }));

  it('a call cancelled before it starts never runs', timed(20_000, async () => {
    const p = pool({ concurrency: 1 });
    const file = path.join(scratch, `${runtime}-queued`);
    const aborted = new AbortController();
    aborted.abort(new Error('too late'));
    let started = 0;
    const onStart = () => started++;
    assert.is((await rejection(call(p, task('writeLater'), [file, 0], { signal: aborted.signal, onStart }))).message, 'too late');
    const first = call(p, source(() => new Promise((r) => setTimeout(r, 300))));
    const queued = new AbortController();
    const second = call(p, task('writeLater'), [file, 0], { signal: queued.signal, onStart });
    setTimeout(() => queued.abort(new Error('cancelled')), 50);
    assert.is((await rejection(second)).message, 'cancelled');
    await first;
    await sleep(200);
    assert.is(started, 0);
    assert.not.ok(existsSync(file), 'the queued call never ran');
  }));

  it('a call cancelled while running has its worker stopped and replaced', timed(20_000, async () => {
    const p = pool({ concurrency: 1 });
    const file = path.join(scratch, `${runtime}-running`);
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const running = call(p, task('writeLater'), [file, 500], { signal: controller.signal, onStart: () => setTimeout(() => controller.abort(reason), 100) });
    assert.is(await rejection(running), reason);
    await sleep(1000);
    assert.not.ok(existsSync(file), 'the worker stopped before it wrote the file');
    assert.is(await call(p, source((x: number) => x + 1), [1]), 2);
  }));

  it('onStart fires when a call gets a worker; the others wait their turn', timed(20_000, async () => {
    const events: string[] = [];
    const run = async (p: ThreadPool, fn: JsTarget, ms = 50) => {
      await call(p, fn, [1]); // a worker running
      events.length = 0;
      await Promise.all([0, 1, 2].map((i) => call(p, fn, [ms], { onStart: () => events.push(`start ${i}`) }).then(() => events.push(`end ${i}`))));
      return [...events];
    };
    const serial = ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2'];
    const wait = source((ms: number) => new Promise((r) => setTimeout(r, ms)));
    const busy = source((ms: number) => { const end = Date.now() + ms; while (Date.now() < end); });
    assert.equal(await run(pool({ concurrency: 1, concurrentTasksPerWorker: 1 }), wait), serial, 'calls that do not overlap');
    assert.equal(await run(pool({ concurrency: 1 }), busy), serial, 'a call that returns a plain value holds its worker');
    assert.equal(await run(pool({ concurrency: 1 }), wait, 300), ['start 0', 'start 1', 'start 2', 'end 0', 'end 1', 'end 2'], 'calls that wait overlap');
  }));

  it('calls submitted together (a batch on threads): a crash or a cancel fails only its own call', timed(30_000, async () => {
    const p = pool({ concurrency: 1 });
    const outcome = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? r.value : (r.reason as Failure).name);
    let starts = 0;
    const exitAt = source(async (i: number, bad: number) => { if (i === bad) process.exit(7); await new Promise((r) => setTimeout(r, 5)); return i; });
    const exited = await Promise.allSettled([0, 1, 2, 3, 4, 5, 6, 7].map((i) => call(p, exitAt, [i, 4], { onStart: () => starts++ })));
    assert.equal(exited.map(outcome), [0, 1, 2, 3, 'WorkerExitedError', 5, 6, 7]);
    assert.is(starts, 8, 'onStart fires once per call, even for a call run again');
    const lateThrow = source((i: number) => { if (i === 2) setTimeout(() => { throw new Error('boom'); }, 0); return new Promise((r) => setTimeout(() => r(i), 20)); });
    const thrown = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => call(p, lateThrow, [i])));
    assert.equal(thrown.map(outcome), [0, 1, 2, 3, 4].map((i) => (i === 2 ? 'WorkerExitedError' : i)));
    const controllers = [0, 1, 2, 3, 4].map(() => new AbortController());
    // (3 still runs when it is cancelled, whether the calls overlap or not)
    const wait = source((i: number) => new Promise((r) => setTimeout(() => r(i), i === 3 ? 2000 : 50)));
    const running = controllers.map((c, i) => call(p, wait, [i], { signal: c.signal }));
    setTimeout(() => controllers[0]!.abort(new Error('cancelled')), 20);
    setTimeout(() => controllers[3]!.abort(new Error('cancelled')), 120);
    const cancelled = await Promise.allSettled(running);
    assert.equal(cancelled.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Failure).message)), ['cancelled', 1, 2, 'cancelled', 4]);
    const copies = await Promise.allSettled([1, 2, () => 1, 4].map((a) => call(p, source((x: unknown) => x), [a])));
    assert.equal(copies.map(outcome), [1, 2, runtime === 'thread' ? 'DataCloneError' : 'TypeError', 4]);
  }));

  it('slow calls submitted together are shared among the workers, round after round', timed(30_000, async () => {
    const p = pool();
    const burn = source(async (ms: number) => {
      const { threadId } = await import('node:worker_threads');
      const end = Date.now() + ms;
      while (Date.now() < end);
      return `${process.pid}/${threadId}`;
    });
    await Promise.all([call(p, burn, [1]), call(p, burn, [1])]);
    // a round starts while the last one's worker may still count as busy: it must not get all
    // the calls of the round in one batch
    for (let round = 0; round < 3; round++) {
      const where = await Promise.all(Array.from({ length: 40 }, () => call(p, burn, [5]))) as string[];
      const counts = [...where.reduce((m, w) => m.set(w, (m.get(w) ?? 0) + 1), new Map<string, number>()).values()];
      assert.is(counts.length, 2, `round ${round}: both workers ran calls (${JSON.stringify(counts)})`);
      // (before, a round could go to one worker in one batch: 40 and 0)
      assert.ok(Math.min(...counts) >= 5, `round ${round}: shared ${JSON.stringify(counts)}`);
    }
  }));

  // A call that waits `ms` and returns where it ran and how many calls of its worker were
  // waiting at once, at most, so far (counted in the worker's global scope)
  const inFlight = source(async (ms: number, fail?: boolean) => {
    const g = globalThis as { inFlight?: number; most?: number };
    g.inFlight = (g.inFlight ?? 0) + 1;
    g.most = Math.max(g.most ?? 0, g.inFlight);
    try {
      await new Promise((r) => setTimeout(r, ms));
      if (fail === true) throw new RangeError('failed while others waited');
      const { threadId } = await import('node:worker_threads');
      return { where: `${process.pid}/${threadId}`, most: g.most };
    } finally {
      g.inFlight--;
    }
  });
  type InFlight = { where: string; most: number };

  it('calls that wait on a promise overlap in their worker, up to concurrentTasksPerWorker', timed(30_000, async () => {
    const most = async (p: ThreadPool, calls: number) => Math.max(...(await Promise.all(Array.from({ length: calls }, () => call(p, inFlight, [30])))).map((r) => (r as InFlight).most));
    assert.is(await most(pool({ concurrency: 1 }), 40), 16, 'by default 16 at once, never more');
    assert.is(await most(pool({ concurrency: 1, concurrentTasksPerWorker: 3 }), 20), 3);
    assert.is(await most(pool({ concurrency: 1, concurrentTasksPerWorker: 1 }), 5), 1);
    // shared among the workers: each overlaps its own, neither takes them all
    const two = pool({ concurrency: 2, concurrentTasksPerWorker: 4 });
    // both workers up first: a child process can take longer to start than the calls take to
    // run on the other one (under load, one took 34 of 40)
    const up = new Set<string>();
    for (let round = 0; round < 50 && up.size < 2; round++) {
      for (const r of await Promise.all(Array.from({ length: 8 }, () => call(two, inFlight, [30]))) as InFlight[]) up.add(r.where);
    }
    assert.is(up.size, 2, 'both workers answer');
    const both = await Promise.all(Array.from({ length: 40 }, () => call(two, inFlight, [30]))) as InFlight[];
    const counts = [...both.reduce((m, r) => m.set(r.where, (m.get(r.where) ?? 0) + 1), new Map<string, number>()).values()];
    assert.is(counts.length, 2, `both workers ran calls (${JSON.stringify(counts)})`);
    assert.ok(Math.min(...counts) >= 8, `shared ${JSON.stringify(counts)}`);
    assert.ok(both.every((r) => r.most <= 4), 'the bound holds in each worker');
    assert.is(Math.max(...both.map((r) => r.most)), 4);
  }));

  it('a call that returns a plain value holds its worker: its timeout starts when it starts', timed(30_000, async () => {
    const p = pool({ concurrency: 1 });
    const busy = source((ms: number) => { const end = Date.now() + ms; while (Date.now() < end); return ms; });
    await call(p, busy, [1]); // a worker running: a call's time counts from when it is handed over
    // four of 150 ms one after the other: 600 ms in all, each within its own 400
    const values = await Promise.all([0, 1, 2, 3].map(() => call(p, busy, [150], { timeout: 400 })));
    assert.equal(values, [150, 150, 150, 150]);
  }));

  it('a timeout or a failure of one of the calls that overlap fails only that call', timed(30_000, async () => {
    const p = pool({ concurrency: 1 });
    await call(p, inFlight, [1]); // a worker running
    const waiting = [0, 1, 2, 3].map(() => call(p, inFlight, [600]));
    const hung = rejection(call(p, inFlight, [60_000], { timeout: 300 }));
    const more = [0, 1].map(() => call(p, inFlight, [600]));
    const error = await hung;
    assert.instance(error, TimeoutError);
    // the others were waiting in the worker the timeout stopped: they ran again, elsewhere
    const done = await Promise.all([...waiting, ...more]) as InFlight[];
    assert.is(done.length, 6);
    assert.ok(done.some((r) => r.most >= 2), `they overlapped (${JSON.stringify(done)})`);
    const settled = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => call(p, inFlight, [50 + i * 10, i === 2])));
    assert.equal(settled.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Failure).name)), ['ok', 'ok', 'RangeError', 'ok', 'ok']);
  }));

  it('close() ends every worker and rejects the calls queued or running', timed(20_000, async () => {
    const p = pool();
    const where = await Promise.all([call(p, task('whereAmI')), call(p, task('whereAmI'))]) as { pid: number }[];
    const hang = source(() => new Promise(() => {}));
    const failures = [1, 2, 3, 4].map(() => rejection(call(p, hang)));
    await sleep(200);
    await p.close();
    for (const error of await Promise.all(failures)) assert.instance(error, PoolClosedError);
    assert.is(p.threads, 0);
    if (runtime === 'process') for (const { pid } of where) assert.not.ok(isAlive(pid), `child ${pid} ended`);
    assert.instance(await rejection(call(p, hang)), PoolClosedError);
  }));

  it('a pool never closed does not keep its process alive', timed(20_000, async () => {
    const child = spawn(process.execPath, [fixture('js/forgotten.mjs'), runtime], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const started = Date.now();
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.is(code, 0);
    assert.is(out.trim(), 'value 42 threads 1');
    assert.ok(Date.now() - started < 5000, `exited after ${Date.now() - started} ms`);
  }));

  it('a task can run its own ThreadPool inside its worker', timed(30_000, async () => {
    const p = pool();
    assert.equal(await call(p, task('fanOut', 'nested.mjs'), [runtime, [1, 2, 3, 4]]), [1, 4, 9, 16]);
  }));

  it('workers see the parent\'s environment', timed(20_000, async () => {
    process.env.POLYTASK_THREAD_TEST = 'visible';
    assert.is(await call(pool(), source(() => process.env.POLYTASK_THREAD_TEST)), 'visible');
  }));

  it('20,000 trivial calls at concurrency 2', timed(120_000, async () => {
    const p = pool({ concurrency: 2 });
    const plusOne = source((x: number) => x + 1);
    await Promise.all([call(p, plusOne, [0]), call(p, plusOne, [0])]);
    const started = performance.now();
    const values = await Promise.all(Array.from({ length: 20_000 }, (_, i) => call(p, plusOne, [i])));
    const seconds = (performance.now() - started) / 1000;
    assert.ok(values.every((v, i) => v === i + 1));
    console.log(`  ${runtime}: 20000 calls in ${seconds.toFixed(2)} s, ${Math.round(20_000 / seconds)} calls/s`);
  }));

  it.run();
}
