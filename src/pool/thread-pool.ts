// The JavaScript runtime of the futures: runs a JS function in a worker thread or a child
// process (tinypool), behind the Executor interface.
//   run(call) --> queue (pending, cancellable) --> onStart(), tinypool.run(batch) --> worker
//   resolve(value) / reject(deserializeError(error)) <-- { i, ok, value | error } <-- entry-batch.ts
// The pool keeps at most `concurrency` tinypool tasks, one per worker. A task is a batch: the
// calls waiting when a worker is free (those submitted in the same tick, typically) go to it
// together, up to about 10 ms of measured work per batch, so that tinypool's cost per task is
// paid once for many calls. The worker starts them in order; a call that returns a promise lets
// the next one start while it waits, up to `concurrentTasksPerWorker` waiting at once, and a
// batch whose calls all started while fewer wait takes more calls from the queue, so that
// calls that wait (I/O) overlap whatever the batch size. Outcomes come back as they finish,
// each with its index, on a MessagePort of the batch (a child process: its IPC channel,
// through tinypool's `channel`); each message also says how many calls the worker has started,
// which is when a call "starts" here (onStart, the start of its timeout). A call sent back
// alone (isolated, below) goes as a task of its own, as does any single call when calls do not
// overlap (concurrentTasksPerWorker 1).
// A timeout or a cancel aborts the task in tinypool, which terminates its worker; a new one
// starts when a call needs it. The other unfinished calls of a stopped batch go back to the
// front of the queue (with their whole timeout again); a worker that dies under a batch
// (process.exit, uncaught exception, out of memory) sends its unfinished calls back one by one
// (isolated), so that only the culprit fails, with WorkerExitedError. At-least-once: a call of
// such a batch whose outcome was still on its way when the worker ended runs again, and so
// does the culprit itself (it ends its worker a second time, alone); so does an unfinished call
// of a batch stopped by a cancel or a timeout, including one that was waiting on a promise.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serialize } from 'node:v8';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { deserializeError } from 'serialize-error';
import Tinypool, { type TinypoolWorker } from 'tinypool';
import { OptionError, PoolClosedError, WorkerExitedError } from '../errors.js';
import type { Executor, RunOptions } from './executor.js';
import { knownOptions, optionKeys, positiveInteger } from '../options.js';
import { Depth } from './depth.js';
import { Batch, PendingCall, type CallOwner } from './thread-batch.js';
// types only: loading the entry here would install its exit hooks in this process
import type { CrashReport, WireBatch, WireCall, WireMore, WireOutcome, WireProgress } from './thread-entry.js';

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
  /**
   * Calls one worker may have waiting on a promise at once. A call whose function returns a
   * promise (an async function, I/O) lets the worker start its next call while it waits; a
   * call that returns a plain value holds its worker until it returns. 1: calls of a worker
   * never overlap.
   * @default 16
   */
  concurrentTasksPerWorker?: number;
}

// How a worker ended, once it exited
type Death = { exit?: { code: number | null; signal: NodeJS.Signals | null } };

// set by thread-entry.ts on the error that ends a thread after process.exit(code)
const exitCodeField = 'polytaskExitCode';
// calls per batch at most
const maxBatch = 512;
// concurrentTasksPerWorker by default: enough I/O in flight per worker to hide waits of a few
// hundred ms, few enough that a worker does not hold calls another one could run, and that a
// timeout or a worker's death (which run the worker's other calls again) costs little
export const defaultTasksPerWorker = 16;
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

export class ThreadPool implements Executor<JsCall> {
  readonly runtime: 'thread' | 'process';
  readonly concurrency: number;
  // calls a worker may have waiting on a promise at once
  readonly concurrentTasksPerWorker: number;
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
  // the batches running, which may take more calls; what they and the calls need of the pool
  readonly #batches = new Set<Batch>();
  readonly #owner: CallOwner = {
    forget: (pending) => this.#forget(pending),
    requeue: (calls, isolated) => this.#requeue(calls, isolated),
    take: (count) => this.#take(count),
    ended: (batch) => this.#batches.delete(batch),
  };

  constructor(options: ThreadPoolOptions = {}) {
    knownOptions('ThreadPool', options, threadPoolOptionKeys);
    this.runtime = options.runtime ?? 'thread';
    if (this.runtime !== 'thread' && this.runtime !== 'process') throw new OptionError(`runtime must be 'thread' or 'process', not ${String(this.runtime)}`);
    this.concurrency = positiveInteger('concurrency', options.concurrency ?? availableParallelism());
    this.concurrentTasksPerWorker = positiveInteger('concurrentTasksPerWorker', options.concurrentTasksPerWorker ?? defaultTasksPerWorker);
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
    if (this.runtime === 'process') {
      const problem = unsendable(call.args);
      if (problem !== undefined) return Promise.reject(problem);
    }
    if (options.timeout !== undefined) wire.t = 1;
    return new Promise((resolve, reject) => {
      const pending = new PendingCall(wire, options, resolve, reject, this.#owner);
      this.#remember(pending);
      if (pending.settled) return; // aborted already
      this.#queue.push(pending);
      this.#schedule();
    });
  }

  // Hands the waiting calls to the free workers once the current tick is over, so that the
  // calls submitted together go together; with every worker busy, to the batches with room
  #schedule(): void {
    if (this.#flushing || (this.#busy >= this.concurrency && this.#batches.size === 0)) return;
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
        this.#advance(start);
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
      this.#advance(end);
      this.#busy++;
      void this.#start(calls).finally(() => {
        this.#busy--;
        this.#schedule();
      });
    }
    for (const batch of this.#batches) batch.grow();
  }

  // The queue now starts at `end`: emptied, or its taken front dropped once it is most of it
  #advance(end: number): void {
    this.#head = end;
    if (end === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (end > 1024 && end * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(end);
      this.#head = 0;
    }
  }

  #batchable(pending: PendingCall): boolean {
    return !pending.isolated;
  }

  // Up to `count` waiting calls for a running batch, when no worker is free to take them
  #take(count: number): PendingCall[] {
    if (this.#busy < this.concurrency || this.#closing !== undefined) return [];
    const queue = this.#queue;
    const taken: PendingCall[] = [];
    let i = this.#head;
    for (; i < queue.length && taken.length < count; i++) {
      const pending = queue[i]!;
      if (pending.settled) continue;
      if (!this.#batchable(pending)) break;
      taken.push(pending);
    }
    this.#advance(i);
    return taken;
  }

  // Calls back to the front of the queue (their batch stopped)
  #requeue(calls: PendingCall[], isolated = false): void {
    if (calls.length === 0) return;
    if (this.#closing !== undefined) {
      for (const pending of calls) pending.fail(new PoolClosedError(), false);
      return;
    }
    for (const pending of calls) {
      pending.isolated ||= isolated;
      pending.unstart();
    }
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

  // The calls got a slot: hand them to tinypool, which has (or starts) a free worker for them.
  // A single call goes alone when it must (isolated) or when calls do not overlap anyway.
  async #start(calls: PendingCall[]): Promise<void> {
    const alone = (pending: PendingCall) => pending.isolated || this.concurrentTasksPerWorker === 1;
    if (calls.length === 1 && alone(calls[0]!)) return this.#startOne(calls[0]!);
    // the first call starts now (its onStart may cancel calls of the batch, itself included)
    do {
      calls[0]!.start();
      calls = calls.filter((p) => !p.settled);
    } while (calls.length > 0 && !calls[0]!.started);
    if (calls.length === 0) return;
    if (calls.length === 1 && alone(calls[0]!)) return this.#startOne(calls[0]!);
    const batch = new Batch(calls, this.concurrentTasksPerWorker, this.#batchSize, this.#owner);
    const wire: WireBatch = { b: calls.map((p) => p.wire), k: this.concurrentTasksPerWorker };
    let transport: { transferList: MessagePort[] } | { channel: object };
    if (this.runtime === 'process') {
      // the child's messages come on tinypool's channel: progress, or its crash report
      transport = {
        channel: {
          postMessage: (message: unknown) => batch.fromChild(message),
          onMessage: (send: (message: WireMore) => void) => (batch.send = (more) => send({ m: more })),
        },
      };
    } else {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (message: WireProgress) => batch.receive(message));
      batch.port = port1;
      batch.send = (more) => port1.postMessage({ m: more } satisfies WireMore);
      wire.p = port2;
      transport = { transferList: [port2] };
    }
    this.#batches.add(batch);
    let failure: unknown;
    let received = 0;
    try {
      const running = this.#tinypool.run(wire, { signal: batch, ...transport });
      this.#watchWorkers();
      // the worker answers with the number of calls it received, every one answered
      received = (await running) as number;
    } catch (error) {
      failure = error;
    }
    if (batch.over) return;
    batch.drain();
    if (failure === undefined && batch.outcomes < received) {
      await batch.received(received, 5000);
      if (batch.over) return; // stopped meanwhile (a call of it cancelled)
    }
    batch.end();
    if (failure === undefined) {
      // calls added after the worker ended the batch never reached it: they run elsewhere
      this.#requeue(batch.unfinished(received));
      for (const pending of batch.unfinished(0, received)) pending.fail(new Error('the worker sent no outcome for the call'), false);
      return;
    }
    const rest = batch.unfinished();
    if (rest.length === 0) return;
    if ((failure as Error | undefined)?.name === 'CancelError' || rest.length === 1) {
      // no worker could start, or the one call left is the culprit
      for (const pending of rest) {
        pending.report ??= batch.report;
        pending.fail(this.#failure(failure, pending), false);
      }
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

  // A call settled
  #forget(pending: PendingCall): void {
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

// Why arguments cannot go to a child process, if they cannot: tinypool sends them with Node's
// advanced serialization, and a value it cannot copy would throw in tinypool's message
// handler, out of reach, and end this process
function unsendable(args: unknown[]): TypeError | undefined {
  try {
    serialize(args);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const hint = /SharedArrayBuffer/.test(reason) ? ': a SharedArrayBuffer cannot be shared with another process (use the thread runtime, or pass a copy such as a typed array)' : '';
    return new TypeError(`the arguments cannot be sent to a worker process (runtime 'process' copies them with Node's advanced serialization): ${reason.replace(/\.$/, '')}${hint}`, { cause: error });
  }
}

// The call as it crosses to the worker; a module path becomes a file URL
function toWire(call: JsCall): WireCall {
  const { target } = call;
  if (target.kind === 'source') return { s: target.source, a: call.args };
  const url = path.isAbsolute(target.url) ? pathToFileURL(target.url).href : target.url;
  return { u: url, n: target.name, a: call.args };
}

// An option that must be a whole number above zero
