// The JavaScript runtime of the futures: runs a JS function in a worker thread or a child
// process (tinypool), behind the Executor interface.
//   run(call) --> queue (pending, cancellable) --> onStart(), tinypool.run(batch) --> worker
//   resolve(value) / reject(deserializeError(error)) <-- { ok, value | error } <-- thread-entry.ts
// The pool keeps at most `concurrency` tinypool tasks, one per worker. A task is a batch: the
// calls waiting when a worker is free (those submitted in the same tick, typically) go to it
// together, up to about 10 ms of measured work per batch, so that tinypool's cost per task is
// paid once for many calls. The worker runs them
// one after the other and sends their outcomes back as they finish, on a MessagePort of the
// batch; a call "starts" when the worker starts it (the first when the batch is handed over,
// the next one when the previous one's outcome arrives). Batching applies to worker threads and
// to calls without a timeout; the others go alone, one task per call, as before.
// A timeout or a cancel aborts the task in tinypool, which terminates its worker; a new one
// starts when a call needs it. The other unfinished calls of a stopped batch go back to the
// front of the queue; a worker that dies under a batch (process.exit, uncaught exception, out of
// memory) sends its unfinished calls back one by one (isolated), so that only the culprit fails,
// with WorkerExitedError. At-least-once: a call of such a batch whose outcome was still on its
// way when the worker ended runs again, and so does the culprit itself (it ends its worker a
// second time, alone); so does an unfinished call of a batch stopped by a cancel.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { deserializeError } from 'serialize-error';
import Tinypool, { type TinypoolWorker } from 'tinypool';
import { OptionError, PoolClosedError, TimeoutError, WorkerExitedError } from '../errors.js';
import type { Executor, RunOptions } from './executor.js';
import { knownOptions, optionKeys, positiveInteger } from '../options.js';
import { Depth } from './depth.js';
// types only: loading the entry here would install its exit hooks in this process
import type { CrashReport, WireBatch, WireCall, WireOutcome } from './thread-entry.js';

export type JsTarget = { kind: 'source'; source: string } | { kind: 'module'; url: string; name: string };

// A function to run: its source text or a module export, and its arguments
export interface JsCall {
  target: JsTarget;
  args: unknown[];
}

export const threadPoolOptionKeys = optionKeys<ThreadPoolOptions>()(['runtime', 'concurrency', 'idleTimeout', 'maxOldGenerationSizeMb', 'concurrentTasksPerWorker']);
export interface ThreadPoolOptions {
  // worker threads (default) or child processes
  runtime?: 'thread' | 'process';
  // workers, and calls running at once (default: os.availableParallelism())
  concurrency?: number;
  // ms an idle worker is kept before it ends (default 30000)
  idleTimeout?: number;
  // heap limit of each worker in MB; a call that goes over it fails with a WorkerExitedError
  maxOldGenerationSizeMb?: number;
}

// How a worker ended, once it exited
type Death = { exit?: { code: number | null; signal: NodeJS.Signals | null } };

// set by thread-entry.ts on the error that ends a thread after process.exit(code)
const exitCodeField = 'polytaskExitCode';
// calls per batch at most
const maxBatch = 512;
const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'thread-entry.js');

// The Node flags for the workers: this process's, without those that only make sense for a
// main script given on the command line (`node --input-type=module -e ...` would make every
// worker fail to start). Threads inherit the flags when nothing needs removing: an explicit
// list is checked, and refuses process-wide flags such as --expose-gc.
function workerExecArgv(isProcess: boolean, extra: string[]): { execArgv?: string[] } {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (/^--input-type(=|$)/.test(arg)) {
      if (!arg.includes('=')) i++;
    } else if (/^(-e|--eval|-p|--print)$/.test(arg)) {
      i++;
    } else if (!/^(--eval|--print)=/.test(arg)) {
      out.push(arg);
    }
  }
  if (!isProcess && out.length === argv.length && extra.length === 0) return {};
  return { execArgv: [...out, ...extra] };
}

// One call of run(), from the queue to its settlement. It is also the abort signal tinypool
// gets for it (tinypool takes any { once, off } emitter): cheaper than an AbortController per call
class PendingCall {
  readonly wire: WireCall;
  readonly options: RunOptions;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: unknown) => void;
  readonly #pool: ThreadPool;
  // the pool's list of calls not settled (see ThreadPool.#live)
  prevLive: PendingCall | undefined;
  nextLive: PendingCall | undefined;
  settled = false;
  started = false;
  // sent back after its worker died under a batch: runs alone
  isolated = false;
  // the batch of more than one call that runs it
  batch: Batch | undefined;
  report: CrashReport | undefined;
  // ends its subscription to options.onAbort
  unsubscribe: (() => void) | undefined;
  // tinypool's listener: terminates the worker running the call, or drops it from its queue
  #abortTinypool: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(wire: WireCall, options: RunOptions, resolve: (value: unknown) => void, reject: (error: unknown) => void, pool: ThreadPool) {
    this.wire = wire;
    this.options = options;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#pool = pool;
  }

  // Handed to a worker: from now on a timeout or a cancel stops that worker
  start(): void {
    if (this.started) return;
    this.started = true;
    const { timeout } = this.options;
    if (timeout !== undefined) this.#timer = setTimeout(() => this.fail(new TimeoutError(timeout)), timeout);
    this.options.onStart?.();
  }

  // tinypool's side of the signal
  once(_event: 'abort', listener: () => void): void {
    this.#abortTinypool = listener;
  }

  off(): void {
    this.#abortTinypool = undefined;
  }

  succeed(value: unknown): void {
    if (this.#end()) this.#resolve(value);
  }

  // Rejects, and (unless the pool is closing anyway) stops the worker if the call is running
  fail(error: unknown, stopWorker = true): void {
    if (!this.#end()) return;
    this.#reject(error);
    const abort = this.#abortTinypool;
    this.#abortTinypool = undefined;
    // tinypool asserts the call is in its queue; the call is settled whatever happens there
    if (stopWorker) try { abort?.(); } catch {}
    if (stopWorker) this.batch?.stop();
  }

  #end(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.#timer);
    this.#pool.forget(this);
    return true;
  }
}

// Calls run by one worker as one tinypool task; also the abort signal tinypool gets for it
class Batch {
  readonly calls: PendingCall[];
  readonly port: MessagePort;
  // the calls before this index have their outcome
  next = 0;
  // stopped (a call of it cancelled) or ended
  over = false;
  #abortTinypool: (() => void) | undefined;
  readonly #requeue: (calls: PendingCall[]) => void;
  // learns how long calls take, from the time between outcomes
  readonly #sizer: Depth;
  #lastOutcomeAt = performance.now();
  // waiting for the outcomes the worker said it sent (see received())
  #waiter: { count: number; done: () => void } | undefined;

  constructor(calls: PendingCall[], port: MessagePort, requeue: (calls: PendingCall[]) => void, sizer: Depth) {
    this.calls = calls;
    this.port = port;
    this.#requeue = requeue;
    this.#sizer = sizer;
  }

  once(_event: 'abort', listener: () => void): void {
    this.#abortTinypool = listener;
  }

  off(): void {
    this.#abortTinypool = undefined;
  }

  // Outcomes of the next calls, in order. The call after them has started in the worker: its
  // onStart fires once the callers had their turn for the outcomes (onStart order = start order)
  receive(outcomes: WireOutcome[]): void {
    if (this.over) return;
    const now = performance.now();
    if (outcomes.length > 0) this.#sizer.observe((now - this.#lastOutcomeAt) / outcomes.length);
    this.#lastOutcomeAt = now;
    for (const outcome of outcomes) {
      const pending = this.calls[this.next++];
      if (pending === undefined) break;
      pending.start();
      if (outcome.ok) pending.succeed(outcome.value);
      else pending.fail(deserializeError(outcome.error), false);
    }
    const upcoming = this.calls[this.next];
    if (upcoming !== undefined) queueMicrotask(() => this.over || upcoming.start());
    if (this.#waiter !== undefined && this.next >= this.#waiter.count) this.#waiter.done();
  }

  // Resolves once `count` outcomes have arrived, or after `ms`. The outcomes travel on the
  // batch's own port, and the task's completion on tinypool's: the completion can be read
  // first, with the last outcomes still on their way.
  received(count: number, ms: number): Promise<void> {
    if (this.next >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiter = { count, done };
    });
  }

  // Takes the outcomes the worker sent that have not been read yet
  drain(): void {
    for (let message = receiveMessageOnPort(this.port); message !== undefined; message = receiveMessageOnPort(this.port)) {
      this.receive(message.message as WireOutcome[]);
    }
  }

  // The calls not settled that have no outcome
  unfinished(): PendingCall[] {
    return this.calls.slice(this.next).filter((p) => !p.settled);
  }

  // A call of the batch was cancelled or timed out: the worker is terminated, the calls of the
  // batch still to run go back to the queue (those that had finished in the worker, their
  // outcome not arrived yet, run again: at-least-once)
  stop(): void {
    if (this.over) return;
    this.drain();
    this.over = true;
    this.port.close();
    // #start may be waiting for outcomes that will not come now
    this.#waiter?.done();
    const rest = this.unfinished();
    for (const pending of this.calls) pending.batch = undefined;
    this.#requeue(rest);
    const abort = this.#abortTinypool;
    this.#abortTinypool = undefined;
    try { abort?.(); } catch {}
  }
}

export class ThreadPool implements Executor<JsCall> {
  readonly runtime: 'thread' | 'process';
  readonly concurrency: number;
  readonly #tinypool: Tinypool;
  // calls waiting for a worker, oldest first; tinypool tasks running
  // (#queue from #head on: taking calls costs no copy of the rest)
  #queue: PendingCall[] = [];
  #head = 0;
  #busy = 0;
  #flushing = false;
  // calls per batch: grows while calls are short, shrinks when they are slow (see depth.ts)
  readonly #batchSize = new Depth('auto', maxBatch);
  // calls not settled that have no onAbort, by the signal that cancels them: one 'abort' listener per signal however
  // many calls share it (adding an EventTarget listener costs O(listeners))
  readonly #calls = new Map<AbortSignal, { calls: Set<PendingCall>; listener: () => void }>();
  // every call not settled, newest first: a list through the calls themselves, not a Set,
  // whose table churn with a call per add and delete would keep calls alive after they are
  // settled (an outgrown table promoted to the old generation holds them until a full GC)
  #live: PendingCall | undefined;
  // the workers we listen to; those not yet exited; the errors tinypool fails calls with when one dies
  readonly #watched = new WeakSet<TinypoolWorker>();
  readonly #alive = new Map<TinypoolWorker, Promise<void>>();
  readonly #deaths = new Map<unknown, Death>();
  #closing: Promise<void> | undefined;
  #startFailure: unknown;

  constructor(options: ThreadPoolOptions = {}) {
    knownOptions('ThreadPool', options, threadPoolOptionKeys);
    this.runtime = options.runtime ?? 'thread';
    if (this.runtime !== 'thread' && this.runtime !== 'process') throw new OptionError(`runtime must be 'thread' or 'process', not ${String(this.runtime)}`);
    this.concurrency = positiveInteger('concurrency', options.concurrency ?? availableParallelism());
    const heapMb = options.maxOldGenerationSizeMb && positiveInteger('maxOldGenerationSizeMb', options.maxOldGenerationSizeMb);
    const isProcess = this.runtime === 'process';
    this.#tinypool = new Tinypool({
      filename: entry,
      name: 'runCall',
      runtime: isProcess ? 'child_process' : 'worker_threads',
      minThreads: 0,
      maxThreads: this.concurrency,
      idleTimeout: positiveInteger('idleTimeout', options.idleTimeout ?? 30_000),
      // a child process gets only tinypool's own variable unless given the environment
      ...(isProcess ? { env: process.env as Record<string, string>, serialization: 'advanced' as const } : {}),
      ...workerExecArgv(isProcess, heapMb && isProcess ? [`--max-old-space-size=${heapMb}`] : []),
      ...(heapMb && !isProcess ? { resourceLimits: { maxOldGenerationSizeMb: heapMb } } : {}),
    });
    // a worker died with no call on it: between calls, or while it started. When none is left,
    // calls waiting in tinypool's queue would wait forever (tinypool stops replacing workers
    // that fail to start): fail them
    this.#tinypool.on('error', (error: unknown) => {
      if (this.#tinypool.threads.length > 0 || this.#tinypool.queueSize === 0) return;
      this.#startFailure = error;
      this.#tinypool.cancelPendingTasks();
    });
  }

  // Workers alive (started or starting)
  get threads(): number {
    return this.#tinypool.threads.length;
  }

  // Runs one call; resolves with the function's value or rejects with its error
  run(call: JsCall, options: RunOptions): Promise<unknown> {
    if (this.#closing !== undefined) return Promise.reject(new PoolClosedError());
    // (with onAbort, the signal is left alone: a Future makes it only when asked for it)
    if (options.onAbort === undefined && options.signal.aborted) return Promise.reject(options.signal.reason);
    const wire = toWire(call);
    return new Promise((resolve, reject) => {
      const pending = new PendingCall(wire, options, resolve, reject, this);
      this.#remember(pending);
      if (pending.settled) return; // aborted already
      this.#queue.push(pending);
      this.#schedule();
    });
  }

  // Hands the waiting calls to the free workers once the current tick is over, so that the
  // calls submitted together go together
  #schedule(): void {
    if (this.#flushing || this.#busy >= this.concurrency) return;
    this.#flushing = true;
    queueMicrotask(() => {
      this.#flushing = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#busy < this.concurrency && this.#closing === undefined) {
      const queue = this.#queue;
      let start = this.#head;
      while (start < queue.length && queue[start]!.settled) start++;
      if (start === queue.length) {
        this.#queue = [];
        this.#head = 0;
        return;
      }
      const first = queue[start]!;
      let end = start + 1;
      if (this.#batchable(first)) {
        // the waiting calls shared among the free workers, as many each as make about 10 ms
        // of work: a worker that frees up later still finds calls waiting
        const size = Math.min(this.#batchSize.value, Math.ceil((queue.length - start) / (this.concurrency - this.#busy)));
        while (end < queue.length && end - start < size && this.#batchable(queue[end]!)) end++;
      }
      const calls = queue.slice(start, end);
      this.#head = end;
      if (end === queue.length) {
        this.#queue = [];
        this.#head = 0;
      } else if (end > 1024 && end * 2 > queue.length) {
        this.#queue = queue.slice(end);
        this.#head = 0;
      }
      this.#busy++;
      void this.#start(calls).finally(() => {
        this.#busy--;
        this.#schedule();
      });
    }
  }

  #batchable(pending: PendingCall): boolean {
    return this.runtime === 'thread' && !pending.isolated && pending.options.timeout === undefined;
  }

  // Calls back to the front of the queue (their batch stopped)
  #requeue(calls: PendingCall[], isolated = false): void {
    if (calls.length === 0) return;
    if (this.#closing !== undefined) {
      for (const pending of calls) pending.fail(new PoolClosedError(), false);
      return;
    }
    for (const pending of calls) pending.isolated ||= isolated;
    this.#queue = [...calls, ...this.#queue.slice(this.#head)];
    this.#head = 0;
    this.#schedule();
  }

  // Ends every worker; calls queued or running reject with a PoolClosedError
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#queue = [];
      this.#head = 0;
      // destroy() stops the workers of running calls; those stopped earlier may still be ending
      const live: PendingCall[] = [];
      for (let p = this.#live; p !== undefined; p = p.nextLive) live.push(p);
      // oldest first, as they were submitted
      for (const pending of live.reverse()) pending.fail(new PoolClosedError(), false);
      this.#closing = this.#tinypool.destroy().then(() => Promise.all(this.#alive.values())).then(() => {});
    }
    return this.#closing;
  }

  // The calls got a slot: hand them to tinypool, which has (or starts) a free worker for them
  async #start(calls: PendingCall[]): Promise<void> {
    if (calls.length === 1) return this.#startOne(calls[0]!);
    // the first call starts now (its onStart may cancel calls of the batch, itself included)
    do {
      calls[0]!.start();
      calls = calls.filter((p) => !p.settled);
    } while (calls.length > 0 && !calls[0]!.started);
    if (calls.length <= 1) return calls.length === 1 ? this.#startOne(calls[0]!) : undefined;
    const { port1, port2 } = new MessageChannel();
    const batch = new Batch(calls, port1, (rest) => this.#requeue(rest), this.#batchSize);
    for (const pending of calls) pending.batch = batch;
    port1.on('message', (outcomes: WireOutcome[]) => batch.receive(outcomes));
    const wire: WireBatch = { b: calls.map((p) => p.wire), p: port2 };
    let failure: unknown;
    let sent = 0;
    try {
      const running = this.#tinypool.run(wire, { signal: batch, transferList: [port2] });
      this.#watchWorkers();
      // the worker answers with the number of outcomes it sent
      sent = (await running) as number;
    } catch (error) {
      failure = error;
    }
    if (batch.over) return;
    batch.drain();
    if (failure === undefined && batch.next < sent) {
      await batch.received(sent, 5000);
      if (batch.over) return; // stopped meanwhile (a call of it cancelled)
    }
    batch.over = true;
    port1.close();
    for (const pending of calls) pending.batch = undefined;
    const rest = batch.unfinished();
    if (rest.length === 0) return;
    if (failure === undefined || (failure as Error | undefined)?.name === 'CancelError' || rest.length === 1) {
      // no worker could start, or the one call left is the culprit
      for (const pending of rest) pending.fail(failure === undefined ? new Error('the worker sent no outcome for the call') : this.#failure(failure, pending), false);
      return;
    }
    // the worker died under one of them: each runs again alone, only the culprit fails
    this.#requeue(rest, true);
  }

  async #startOne(pending: PendingCall): Promise<void> {
    if (pending.settled) return;
    let outcome: WireOutcome;
    try {
      pending.start();
      if (pending.settled) return; // onStart cancelled it
      // a child process reports its uncaught exception on tinypool's channel before it exits
      const channel = { postMessage: (message?: Partial<CrashReport>) => (pending.report = message?.polytaskCrash ? message as CrashReport : pending.report) };
      const sentAt = performance.now();
      const running = this.#tinypool.run(pending.wire, { signal: pending, ...(this.runtime === 'process' ? { channel } : {}) });
      this.#watchWorkers();
      outcome = (await running) as WireOutcome;
      this.#batchSize.observe(performance.now() - sentAt);
    } catch (error) {
      if (!pending.settled) pending.fail(this.#failure(error, pending));
      return;
    }
    if (outcome.ok) pending.succeed(outcome.value);
    else pending.fail(deserializeError(outcome.error));
  }

  // Listens for the call's signal (once per signal)
  #remember(pending: PendingCall): void {
    pending.nextLive = this.#live;
    if (this.#live !== undefined) this.#live.prevLive = pending;
    this.#live = pending;
    const { options } = pending;
    if (options.onAbort !== undefined) {
      const unsubscribe = options.onAbort(() => pending.fail(pending.options.signal.reason));
      if (pending.settled) unsubscribe();
      else pending.unsubscribe = unsubscribe;
      return;
    }
    const { signal } = pending.options;
    let entry = this.#calls.get(signal);
    if (entry === undefined) {
      const calls = new Set<PendingCall>();
      entry = { calls, listener: () => [...calls].forEach((p) => p.fail(signal.reason)) };
      this.#calls.set(signal, entry);
      signal.addEventListener('abort', entry.listener, { once: true });
    }
    entry.calls.add(pending);
  }

  // A call settled (for PendingCall only)
  forget(pending: PendingCall): void {
    const { prevLive, nextLive } = pending;
    // not in the list (never added, or taken out already): the list must stay whole
    if (prevLive === undefined && this.#live !== pending) return;
    if (prevLive === undefined) this.#live = nextLive;
    else prevLive.nextLive = nextLive;
    if (nextLive !== undefined) nextLive.prevLive = prevLive;
    // a settled call points to nothing: garbage must not keep live calls from the young generation
    pending.prevLive = undefined;
    pending.nextLive = undefined;
    if (pending.options.onAbort !== undefined) {
      pending.unsubscribe?.();
      pending.unsubscribe = undefined;
      return;
    }
    const { signal } = pending.options;
    const entry = this.#calls.get(signal);
    if (entry === undefined || !entry.calls.delete(pending) || entry.calls.size > 0) return;
    this.#calls.delete(signal);
    signal.removeEventListener('abort', entry.listener);
  }

  // Listens to the workers tinypool started (it starts them only in run(), when needed). Both
  // listeners run right after tinypool's, before the failed call's rejection is handled.
  #watchWorkers(): void {
    for (const worker of this.#tinypool.threads) {
      if (this.#watched.has(worker)) continue;
      this.#watched.add(worker);
      const death: Death = {};
      worker.on('error', (error: unknown) => {
        this.#deaths.set(error, death);
        setImmediate(() => this.#deaths.delete(error)).unref();
      });
      this.#alive.set(worker, new Promise((resolve) => worker.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        death.exit = { code, signal };
        this.#alive.delete(worker);
        resolve();
      })));
    }
  }

  // The error for a call that tinypool failed: its worker died, or tinypool refused it
  #failure(error: unknown, pending: PendingCall): unknown {
    if ((error as Error | undefined)?.name === 'CancelError') {
      const { code = null, signal = null } = this.#deaths.get(this.#startFailure)?.exit ?? {};
      const failure = new WorkerExitedError(`no worker could start to run the call: ${describe(this.#startFailure)}`, code, signal);
      return Object.assign(failure, { cause: this.#startFailure });
    }
    const death = this.#deaths.get(error);
    if (death === undefined) return error;
    if (this.runtime === 'thread') return threadDeath(error);
    return processDeath(death, pending.report && deserializeError(pending.report.polytaskCrash));
  }
}

// A worker thread died: what it died of (the error it threw, or process.exit) says how
function threadDeath(cause: unknown): WorkerExitedError {
  const { code, message, [exitCodeField]: exitCode } = (typeof cause === 'object' && cause !== null ? cause : {}) as Record<string, unknown>;
  if (typeof exitCode === 'number') return new WorkerExitedError(`the call ended its worker thread with process.exit(${exitCode})`, exitCode, null);
  const error = code === 'ERR_WORKER_OUT_OF_MEMORY'
    ? new WorkerExitedError(`the worker thread ran out of memory while running the call (${String(message)})`, null, null)
    : new WorkerExitedError(`the worker thread died of an uncaught exception while running the call: ${describe(cause)}`, 1, null);
  error.cause = cause;
  return error;
}

// A child process died: its exit code or signal, and the uncaught exception it reported
function processDeath(death: Death, cause: Error | undefined): WorkerExitedError {
  const { code = null, signal = null } = death.exit ?? {};
  if (cause !== undefined) {
    const error = new WorkerExitedError(`the worker process died of an uncaught exception while running the call: ${describe(cause)}`, code, signal);
    error.cause = cause;
    return error;
  }
  if (signal === null) return new WorkerExitedError(`the worker process exited with code ${code ?? 'unknown'} while running the call`, code, signal);
  return new WorkerExitedError(`the worker process was killed by ${signal} while running the call${signal === 'SIGABRT' ? ' (as V8 does when the heap is full)' : ''}`, code, signal);
}

// `Name: message` of an error, or the thrown value
function describe(error: unknown): string {
  const { name, message } = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  return message === undefined ? String(error) : `${String(name)}: ${String(message)}`;
}

// The call as it crosses to the worker; a module path becomes a file URL
function toWire(call: JsCall): WireCall {
  const { target } = call;
  if (target.kind === 'source') return { s: target.source, a: call.args };
  const url = path.isAbsolute(target.url) ? pathToFileURL(target.url).href : target.url;
  return { u: url, n: target.name, a: call.args };
}

// An option that must be a whole number above zero
