// The Executor contract (src/pool/executor.ts, docs/api.md), tested once, generically, against
// every implementation: worker threads, JavaScript child processes, this process (inline), the
// cross-language pool on Node and Python 3, and the remote executor (a worker over a real Redis).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pathToFileURL } from 'node:url';
import { PoolClosedError, RemoteError, TimeoutError, WorkerExitedError } from '../../src/errors.js';
import type { Executor, Receiver } from '../../src/pool/executor.js';
import { InlineExecutor } from '../../src/pool/inline.js';
import type { ItemResult } from '../../src/pool/items.js';
import { ProcessPool } from '../../src/pool/process/pool.js';
import { ThreadPool } from '../../src/pool/thread/pool.js';
import { resolveSpec } from '../../src/spec/load.js';
import { fixture, missingInterpreter, timed } from '../helpers.js';
import { RemoteExecutor } from '../../src/remote/executor.js';
import { RemoteWorker } from '../../src/remote/worker.js';
import { RedisServer, redisMissing } from '../remote/redis.js';

type Kind = 'value' | 'throw' | 'sleep' | 'exit';

interface Subject {
  name: string;
  // workers: 2, and 1 (serial)
  make(workers: number): Executor<unknown, unknown>;
  call(kind: Kind, arg: unknown): unknown;
  value(answer: unknown): unknown;
  // the error class a call that threw rejects with
  thrown: new (...args: never[]) => Error;
  // a running call can be stopped (its worker killed), so a death can be tested
  stoppable: boolean;
  missing?: string | undefined;
  // before and after the suite (a Redis server for the remote executor)
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
}

const module = pathToFileURL(fixture('js/contract.mjs')).href;
const jsCall = (kind: Kind, arg: unknown) => ({ target: { kind: 'module' as const, url: module, name: 'behave' }, args: [kind, arg] });
const nodeCode = `export async function main([kind, arg]) {
  if (kind === 'value') return arg;
  if (kind === 'throw') throw new RangeError('boom ' + arg);
  if (kind === 'sleep') { await new Promise((r) => setTimeout(r, arg)); return arg; }
  if (kind === 'exit') process.exit(3);
}`;
const pythonCode = `import time, sys, os
def main(event, context):
    kind, arg = event
    if kind == 'value': return arg
    if kind == 'throw': raise ValueError('boom %s' % arg)
    if kind == 'sleep':
        time.sleep(arg / 1000.0)
        return arg
    if kind == 'exit': os._exit(3)
`;
const itemValue = (answer: unknown) => (answer as ItemResult).value;

const subjects: Subject[] = [
  { name: 'ThreadPool (worker threads)', make: (n) => new ThreadPool({ runtime: 'thread', concurrency: n }), call: jsCall, value: (v) => v, thrown: RangeError, stoppable: true },
  { name: 'ThreadPool (child processes)', make: (n) => new ThreadPool({ runtime: 'process', concurrency: n }), call: jsCall, value: (v) => v, thrown: RangeError, stoppable: true },
  { name: 'InlineExecutor (this process)', make: () => new InlineExecutor(), call: jsCall, value: (v) => v, thrown: RangeError, stoppable: false },
  { name: 'ProcessPool (node handler)', make: (n) => new ProcessPool(resolveSpec({ exec_type: 'node', exec_info: { code: nodeCode } }), { processes: n, onWorkerOutput: () => {} }), call: (kind, arg) => [kind, arg], value: itemValue, thrown: RemoteError, stoppable: true },
  { name: 'ProcessPool (python3 handler)', make: (n) => new ProcessPool(resolveSpec({ exec_type: 'python3', exec_info: { code: pythonCode } }), { processes: n, onWorkerOutput: () => {} }), call: (kind, arg) => [kind, arg], value: itemValue, thrown: RemoteError, stoppable: true, missing: missingInterpreter('python3') },
];

// The remote executor with a worker of its own: each executor made gets its own queue (the spec's
// code differs by a comment), so that the suite's executors do not share workers
const redis = new RedisServer();
let queues = 0;
function remote(workers: number): Executor<unknown, unknown> {
  const spec = resolveSpec({ exec_type: 'node', exec_info: { code: `${nodeCode}\n// queue ${++queues}` } });
  const worker = new RemoteWorker(spec, { redis: redis.url, processes: workers, onWorkerOutput: () => {}, onError: () => {} });
  const executor = new RemoteExecutor(spec, { redis: redis.url });
  const started = worker.start();
  return {
    get capacity() {
      return executor.capacity;
    },
    start: () => started.then(() => executor.start()),
    submit: (call, receiver) => void started.then(() => executor.submit(call, receiver as Receiver<ItemResult>)),
    run: (call, options) => started.then(() => executor.run(call, options)),
    close: async () => {
      await executor.close();
      await started.catch(() => {});
      await worker.stop();
    },
  };
}
subjects.push({ name: 'RemoteExecutor (node handler, a worker over Redis)', make: remote, call: (kind, arg) => [kind, arg], value: itemValue, thrown: RemoteError, stoppable: true, missing: redisMissing(), setup: () => redis.start(), teardown: () => redis.close() });

// A receiver that records what the executor did with the call
function recorder(options: Partial<Receiver<unknown>> = {}) {
  const seen = { resolved: 0, rejected: 0, started: 0, value: undefined as unknown, error: undefined as unknown };
  let settle!: () => void;
  const answered = new Promise<void>((resolve) => (settle = resolve));
  const receiver: Receiver<unknown> = {
    ...options,
    onStart: () => void seen.started++,
    resolve: (value) => {
      seen.resolved++;
      seen.value = value;
      settle();
    },
    reject: (error) => {
      seen.rejected++;
      seen.error = error;
      settle();
    },
  };
  return { seen, receiver, answered };
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const subject of subjects) {
  if (subject.missing !== undefined) {
    console.log(`skip the executor contract on ${subject.name}: ${subject.missing}`);
    continue;
  }
  const it = suite(`Executor contract: ${subject.name}`);
  let executor: Executor<unknown, unknown>;
  if (subject.setup !== undefined) it.before(subject.setup);
  if (subject.teardown !== undefined) it.after(subject.teardown);
  it.before.each(() => {
    executor = subject.make(2);
  });
  it.after.each(async () => {
    await executor.close();
  });

  it('start() resolves and capacity is at least one call', timed(30_000, async () => {
    await executor.start();
    assert.ok(executor.capacity >= 1, `capacity ${executor.capacity}`);
  }));

  it('run() resolves with the value; a call that throws rejects with an Error of its own', timed(30_000, async () => {
    assert.equal(subject.value(await executor.run(subject.call('value', { a: [1, 'x'] }))), { a: [1, 'x'] });
    const error = await executor.run(subject.call('throw', 7)).then(() => undefined, (e: unknown) => e);
    assert.instance(error, subject.thrown);
    assert.match((error as Error).message, 'boom 7');
  }));

  it('submit(): exactly one answer per call, whatever the mix', timed(30_000, async () => {
    const calls = Array.from({ length: 24 }, (_, i) => recorder());
    calls.forEach((c, i) => executor.submit(subject.call(i % 4 === 1 ? 'throw' : 'value', i), c.receiver));
    await Promise.all(calls.map((c) => c.answered));
    await tick(50);
    calls.forEach((c, i) => {
      assert.is(c.seen.resolved + c.seen.rejected, 1, `call ${i} answered once`);
      if (i % 4 === 1) assert.instance(c.seen.error, subject.thrown);
      else assert.is(subject.value(c.seen.value), i);
      assert.is(c.seen.started, 1, `call ${i} started once`);
    });
  }));

  it('calls are handed out in the order they were submitted: on one worker, they start in it', timed(30_000, async () => {
    const serial = subject.make(1);
    try {
      const order: number[] = [];
      const runs = Array.from({ length: 8 }, (_, i) => serial.run(subject.call('sleep', 20), { onStart: () => void order.push(i) }));
      await Promise.all(runs);
      assert.equal(order, [0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await serial.close();
    }
  }));

  it('a call cancelled before it starts never starts, and rejects with the signal\'s reason', timed(30_000, async () => {
    const before = new AbortController();
    const reason = new Error('not wanted');
    before.abort(reason);
    const early = recorder({ signal: before.signal });
    executor.submit(subject.call('value', 1), early.receiver);
    await early.answered;
    assert.is(early.seen.error, reason);
    assert.is(early.seen.started, 0);
    // cancelled in the same tick as it was submitted: still not started
    const soon = new AbortController();
    const queued = recorder({ signal: soon.signal });
    executor.submit(subject.call('value', 2), queued.receiver);
    soon.abort(reason);
    await queued.answered;
    assert.is(queued.seen.error, reason);
    assert.is(queued.seen.started, 0);
    assert.is(queued.seen.resolved, 0);
    assert.is(subject.value(await executor.run(subject.call('value', 3))), 3, 'the executor goes on');
  }));

  it('a running call that is cancelled rejects with the reason at once; the executor goes on', timed(30_000, async () => {
    const cancel = new AbortController();
    const reason = new Error('stop it');
    const slow = recorder({ signal: cancel.signal });
    // inline: the function cannot be stopped, and the next call waits for it to return
    const ms = subject.stoppable ? 20_000 : 3000;
    executor.submit(subject.call('sleep', ms), slow.receiver);
    while (slow.seen.started === 0) await tick(10);
    const cancelledAt = Date.now();
    cancel.abort(reason);
    await slow.answered;
    assert.is(slow.seen.error, reason);
    assert.ok(Date.now() - cancelledAt < ms / 2, 'answered when cancelled, not when the call would have ended');
    assert.is(subject.value(await executor.run(subject.call('value', 'next'))), 'next');
  }));

  it('a timeout counts from the start and rejects with a TimeoutError', timed(30_000, async () => {
    const ms = subject.stoppable ? 20_000 : 1500;
    const error = await executor.run(subject.call('sleep', ms), { timeout: 300 }).then(() => undefined, (e: unknown) => e);
    assert.instance(error, TimeoutError);
    assert.is(subject.value(await executor.run(subject.call('value', 'after'), { timeout: 5000 })), 'after');
  }));

  if (subject.stoppable) {
    it('a death fails only the call that caused it (WorkerExitedError); the worker is replaced', timed(30_000, async () => {
      const others = Array.from({ length: 6 }, (_, i) => executor.run(subject.call('sleep', 30)).then((v) => subject.value(v)));
      const death = await executor.run(subject.call('exit', 0)).then(() => undefined, (e: unknown) => e);
      assert.instance(death, WorkerExitedError);
      assert.equal(await Promise.all(others), [30, 30, 30, 30, 30, 30]);
      assert.is(subject.value(await executor.run(subject.call('value', 'again'))), 'again');
    }));
  }

  it('close() rejects every call not answered, then refuses new ones; a second close() waits too', timed(30_000, async () => {
    const ms = subject.stoppable ? 20_000 : 300;
    const calls = Array.from({ length: 4 }, () => recorder());
    for (const c of calls) executor.submit(subject.call('sleep', ms), c.receiver);
    await tick(100);
    const closing = executor.close();
    const again = executor.close();
    await Promise.all([closing, again]);
    await Promise.all(calls.map((c) => c.answered));
    for (const c of calls) {
      assert.is(c.seen.resolved + c.seen.rejected, 1);
      assert.instance(c.seen.error, PoolClosedError);
    }
    const late = await executor.run(subject.call('value', 1)).then(() => undefined, (e: unknown) => e);
    assert.instance(late, PoolClosedError);
  }));

  it.run();
}
