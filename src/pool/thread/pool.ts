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
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserializeError } from 'serialize-error';
import Tinypool from 'tinypool';
import { PoolClosedError } from '../../errors.js';
import { abortedAlready, cancelReason } from '../cancel.js';
import { runOn, type CloseOptions, type Executor, type Receiver, type RunOptions } from '../executor.js';
import { Depth } from '../depth.js';
import { Queue } from '../queue.js';
import { Microtask } from '../schedule.js';
import { Batch, PendingCall, type CallOwner } from './batch.js';
import { DeathWatch } from './deaths.js';
import { LiveCalls } from './live.js';
import { threadSettings, workerExecArgv, type ThreadPoolOptions } from './options.js';
import { unwrapArgs } from './move.js';
import { toWire, unsendable, type JsCall } from './wire.js';
// types only: loading the entry here would install its exit hooks in this process
import type { CrashReport, WireBatch, WireOutcome } from './entry.js';

export { threadPoolOptionKeys, type ThreadPoolOptions } from './options.js';
export type { JsCall, JsTarget } from './wire.js';

// calls per batch at most
const maxBatch = 512;
// beside this module; in the CLI's bundle (dist/src/cli/bundle.js, for `polytask worker`) this
// code sits in cli/, and the entry is found from there
const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.basename(here) === 'thread' ? path.join(here, 'entry.js') : path.join(here, '..', 'pool', 'thread', 'entry.js');

/** Runs JavaScript calls in worker threads or child processes (tinypool), as an Executor */
export class ThreadPool implements Executor<JsCall> {
  readonly runtime: 'thread' | 'process';
  readonly concurrency: number;
  /** Calls a worker may have waiting on a promise at once */
  readonly concurrentTasksPerWorker: number;
  readonly #tinypool: Tinypool;
  // calls waiting for a worker, oldest first; tinypool tasks running
  readonly #queue = new Queue<PendingCall>();
  #busy = 0;
  readonly #flush = new Microtask(() => this.#flushQueue());
  // calls per batch: grows while calls are short, shrinks when they are slow (see depth.ts)
  readonly #batchSize = new Depth('auto', maxBatch);
  readonly #live = new LiveCalls();
  readonly #deaths: DeathWatch;
  #closing: Promise<void> | undefined;
  // the batches running, which may take more calls; what they and the calls need of the pool
  readonly #batches = new Set<Batch>();
  readonly #owner: CallOwner = {
    forget: (pending) => this.#live.remove(pending),
    requeue: (calls, isolated) => this.#requeue(calls, isolated),
    take: (count) => this.#take(count),
    ended: (batch) => this.#batches.delete(batch),
  };

  constructor(options: ThreadPoolOptions = {}) {
    const settings = threadSettings(options);
    this.runtime = settings.runtime;
    this.concurrency = settings.concurrency;
    this.concurrentTasksPerWorker = settings.concurrentTasksPerWorker;
    this.#deaths = new DeathWatch(this.runtime);
    const { heapMb } = settings;
    const isProcess = this.runtime === 'process';
    this.#tinypool = new Tinypool({
      filename: entry,
      name: 'runCall',
      runtime: isProcess ? 'child_process' : 'worker_threads',
      minThreads: 0,
      maxThreads: this.concurrency,
      idleTimeout: settings.idleTimeout,
      // a child process gets only tinypool's own variable unless given the environment
      ...(isProcess ? { env: process.env as Record<string, string>, serialization: 'advanced' as const } : {}),
      ...workerExecArgv(isProcess, heapMb !== undefined && isProcess ? [`--max-old-space-size=${heapMb}`] : []),
      ...(heapMb !== undefined && !isProcess ? { resourceLimits: { maxOldGenerationSizeMb: heapMb } } : {}),
    });
    // a worker died with no call on it: between calls, or while it started. When none is left,
    // calls waiting in tinypool's queue would wait forever (tinypool stops replacing workers
    // that fail to start): fail them
    this.#tinypool.on('error', (error: unknown) => {
      if (this.#tinypool.threads.length > 0 || this.#tinypool.queueSize === 0) return;
      this.#deaths.startFailure = error;
      this.#tinypool.cancelPendingTasks();
    });
  }

  /** Workers alive (started or starting) */
  get threads(): number {
    return this.#tinypool.threads.length;
  }

  /** Calls it usefully holds at once: one batch of calls per worker */
  get capacity(): number {
    return this.concurrency * Math.max(this.#batchSize.value, this.concurrentTasksPerWorker);
  }

  /** Workers start on demand: nothing to wait for */
  start(): Promise<void> {
    return this.#closing === undefined ? Promise.resolve() : Promise.reject(new PoolClosedError());
  }

  /** Runs one call; resolves with the function's value or rejects with its error */
  run(call: JsCall, options?: RunOptions): Promise<unknown> {
    return runOn(this, call, options);
  }

  submit(call: JsCall, receiver: Receiver<unknown>): void {
    if (this.#closing !== undefined) return receiver.reject(new PoolClosedError());
    if (abortedAlready(receiver)) return receiver.reject(cancelReason(receiver, () => new PoolClosedError()));
    const moved = unwrapArgs(call.args, this.runtime === 'thread');
    if (moved instanceof Error) return receiver.reject(moved);
    const wire = toWire(moved === undefined ? call : { ...call, args: moved.args });
    if (this.runtime === 'process') {
      const problem = unsendable(moved?.args ?? call.args);
      if (problem !== undefined) return receiver.reject(problem);
    }
    if (receiver.timeout !== undefined) wire.t = 1;
    const pending = new PendingCall(wire, receiver, this.#owner);
    // a thread gets moved buffers (a child process a copy), in a task of the call's own
    if (moved !== undefined && moved.transfer.length > 0) [pending.transfer, pending.isolated] = [moved.transfer, true];
    this.#live.add(pending);
    if (pending.settled) return; // aborted already
    this.#queue.push(pending);
    this.#schedule();
  }

  // Hands the waiting calls to the free workers once the current tick is over, so that the
  // calls submitted together go together; with every worker busy, to the batches with room
  #schedule(): void {
    if (this.#busy >= this.concurrency && this.#batches.size === 0) return;
    this.#flush.schedule();
  }

  #flushQueue(): void {
    const queue = this.#queue;
    while (this.#busy < this.concurrency && this.#closing === undefined) {
      while (queue.length > 0 && queue.peek()!.settled) queue.shift();
      if (queue.length === 0) break;
      const first = queue.shift()!;
      const calls = [first];
      if (!first.isolated) {
        // the waiting calls shared among the free workers, as many each as make about 10 ms
        // of work: a worker that frees up later still finds calls waiting
        const size = Math.min(this.#batchSize.value, Math.ceil((queue.length + 1) / (this.concurrency - this.#busy)));
        while (calls.length < size && queue.length > 0 && !queue.peek()!.isolated) {
          const next = queue.shift()!;
          if (!next.settled) calls.push(next);
        }
      }
      this.#busy++;
      void this.#start(calls).finally(() => {
        this.#busy--;
        this.#schedule();
      });
    }
    for (const batch of this.#batches) batch.grow();
  }

  // Up to `count` waiting calls for a running batch, when no worker is free to take them
  #take(count: number): PendingCall[] {
    if (this.#busy < this.concurrency || this.#closing !== undefined) return [];
    const queue = this.#queue;
    const taken: PendingCall[] = [];
    while (taken.length < count && queue.length > 0) {
      const pending = queue.peek()!;
      if (pending.settled) {
        queue.shift();
        continue;
      }
      if (pending.isolated) break;
      taken.push(queue.shift()!);
    }
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
    this.#queue.unshift(...calls);
    this.#schedule();
  }

  /** Ends every worker; calls queued or running reject with a PoolClosedError */
  close(_options?: CloseOptions): Promise<void> {
    if (this.#closing === undefined) {
      this.#queue.drain();
      // destroy() stops the workers of running calls; those stopped earlier may still be ending
      for (const pending of this.#live.all()) pending.fail(new PoolClosedError(), false);
      this.#closing = this.#tinypool.destroy().then(() => this.#deaths.allExited());
    }
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
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
    const transport = batch.transport(this.runtime, wire);
    this.#batches.add(batch);
    let failure: unknown;
    let received = 0;
    try {
      const running = this.#tinypool.run(wire, { signal: batch, ...transport });
      this.#deaths.watch(this.#tinypool.threads);
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
    if (this.#deaths.isStartFailure(failure) || rest.length === 1) {
      // no worker could start, or the one call left is the culprit
      for (const pending of rest) pending.fail(this.#deaths.failure(failure, pending.report ?? batch.report), false);
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
      const running = this.#tinypool.run(pending.wire, { signal: pending, ...(this.runtime === 'process' ? { channel } : { transferList: pending.transfer }) });
      this.#deaths.watch(this.#tinypool.threads);
      outcome = (await running) as WireOutcome;
      this.#batchSize.observe(performance.now() - sentAt);
    } catch (error) {
      if (!pending.settled) pending.fail(this.#deaths.failure(error, pending.report));
      return;
    }
    if (outcome.ok) pending.succeed(outcome.value);
    else pending.fail(deserializeError(outcome.error));
  }
}
