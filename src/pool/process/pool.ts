// The cross-language pool: N long-lived children, each with several calls in flight.
//
//   submit(item) --> pending queue --> dispatch --> slot.inflight (oldest first)   (slot.ts)
//                                                      |  call lines on fd 3
//                                                      v
//                                                   child (handlers/*) runs handler(event, context)
//                                                      |  result lines on fd 4     (worker.ts)
//   receiver <-- onResults <---------------------------+
//
// A child that dies fails the call it was running (WorkerExitedError; TimeoutError or a
// cancellation when the pool killed it) and its other calls go back to the pending queue
// (deaths.ts). A replacement child takes the slot. Every submitted item gets exactly one
// answer; a failure of the item's own (crash, timeout, or error when asked) can send it round
// again (retry.ts). Children are also replaced between items (recycle.ts).
import { errorInfo, PoolClosedError, type ErrorInfo } from '../../errors.js';
import { closeOptionKeys, knownOptions } from '../../options.js';
import type { ResolvedSpec } from '../../spec/load.js';
import { abortedAlready, cancelReason, onCancel } from '../cancel.js';
import type { CloseOptions, Receiver, RunOptions } from '../executor.js';
import { runOn } from '../executor.js';
import { resultOf, type ItemExecutor } from '../items.js';
import { Queue } from '../queue.js';
import type { RetryOn } from '../retry.js';
import { Microtask } from '../schedule.js';
import { cancelled, exitCodes, failure, isItemError, newCall, parseRaw, settle, type Call, type ItemResult, type RawResult, type RawResultCallback, type ResultCallback } from './call.js';
import { exitMessage, sortDeath } from './deaths.js';
import { toError } from './errors.js';
import { poolSettings, type PoolOptions, type PoolSettings } from './options.js';
import { Recycler } from './recycle.js';
import { RetryQueue } from './retry-queue.js';
import { Slot } from './slot.js';
import { PoolMeter, type PoolStats } from './stats.js';
import { Worker, type ChildExit } from './worker.js';

export type { ItemResult, RawResult, RawResultCallback, ResultCallback } from './call.js';
export type { PoolStats, WorkerStats } from './stats.js';
export { poolOptionKeys, type PoolOptions } from './options.js';

/**
 * N long-lived children running a job spec's handler, one item per call (an Executor): an item
 * resolves with its result `{exit, value, stdout, stderr, attempts}`; a failed item rejects with
 * a RemoteError, TimeoutError or WorkerExitedError whose `result` is that result.
 */
export class ProcessPool implements ItemExecutor {
  readonly spec: ResolvedSpec;
  readonly processes: number;
  readonly #settings: PoolSettings;
  readonly #slots: Slot[] = [];
  readonly #pending = new Queue<Call>();
  readonly #waiting = new RetryQueue();
  readonly #dispatch = new Microtask(() => this.#dispatchAll());
  readonly #meter: PoolMeter;
  readonly #recycler: Recycler;
  #nextId = 1;
  #started: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #inflightCount = 0;
  #referenced = true;
  // set when every child has died and none could be restarted
  #noChildLeft: ErrorInfo | undefined;

  constructor(spec: ResolvedSpec, options: PoolOptions = {}) {
    this.#settings = poolSettings(options);
    this.spec = spec;
    this.processes = this.#settings.processes;
    this.#meter = new PoolMeter(this.processes);
    for (let id = 0; id < this.processes; id++) this.#slots.push(new Slot(id, this.#settings.pipeline));
    this.#recycler = new Recycler(this.#settings, this.#meter, (slot) => this.#replace(slot));
  }

  /** Items submitted and not yet answered */
  get size(): number {
    return this.#pending.length + this.#inflightCount + this.#waiting.size;
  }

  /** How many items the pool can usefully hold at once (children x pipeline depth) */
  get capacity(): number {
    let total = 0;
    for (const slot of this.#slots) total += slot.depth.value;
    return Math.max(total, this.processes);
  }

  /** Starts every child and waits until all are ready; rejects with a SetupError */
  start(): Promise<void> {
    this.#started ??= this.#startAll();
    return this.#started;
  }

  async #startAll(): Promise<void> {
    this.#recycler.start(this.#slots);
    const results = await Promise.allSettled(this.#slots.map((slot) => this.#startWorker(slot)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      const info = { name: 'SetupError', message: errorInfo(failed.reason).message };
      for (const call of this.#pending.drain()) this.#answer(call, failure(1, info));
      this.#updateRef();
      await this.close();
      throw failed.reason;
    }
  }

  async #startWorker(slot: Slot): Promise<void> {
    const worker = new Worker(slot.id, this.spec, {
      onResults: (w, results, ids) => this.#onResults(w, results, ids),
      onExit: (w, exit) => this.#onExit(w, exit),
      onOutput: this.#settings.onOutput,
    });
    slot.occupy(worker);
    this.#meter.childStarted(slot.id);
    const { setupTimeout, attachTerminal, timeout, keepAlive } = this.#settings;
    await worker.start({ setupTimeout, attachTerminal, timeout });
    if (this.#closed) {
      await worker.close(0, true);
      return;
    }
    if (!keepAlive) worker.setRef(this.#referenced);
    this.#dispatch.schedule();
  }

  /** Runs one item: resolves with its result, rejects with the item's error (`error.result`) */
  run(item: unknown, options?: RunOptions): Promise<ItemResult> {
    return runOn(this, item, options);
  }

  /** Runs one item and resolves with its result, a failure's too: never rejects for an item */
  result(item: unknown, options: RunOptions = {}): Promise<ItemResult> {
    return new Promise((resolve) => this.submit(item, { ...options, resolve, reject: (error) => resolve(resultOf(error)) }));
  }

  /** Submits one item; the receiver hears its result or its error (Executor.submit) */
  submit(item: unknown, receiver: Receiver<ItemResult>): void {
    if (abortedAlready(receiver)) {
      receiver.reject(cancelReason(receiver, () => new PoolClosedError()));
      return;
    }
    let unsubscribe: (() => void) | undefined;
    let id = 0;
    let cancelledFirst = false;
    const done = (result: ItemResult) => {
      unsubscribe?.();
      if (result.error === undefined) receiver.resolve(result);
      else if (receiver.signal?.aborted === true) receiver.reject(receiver.signal.reason);
      // answered by close(): the contract's PoolClosedError, with the result all the same
      else if (result.cancelled === true && this.#closed) receiver.reject(Object.assign(new PoolClosedError(), { result }));
      else receiver.reject(toError(result, timeout));
    };
    const timeout = receiver.timeout ?? this.#settings.timeout;
    const call = this.#call(item, done, receiver.onStart === undefined ? undefined : () => receiver.onStart!(), timeout);
    if (call === undefined) return;
    // onCancel calls the listener at once for a call cancelled already: it is then not queued
    unsubscribe = onCancel(receiver, () => (id === 0 ? (cancelledFirst = true) : this.#cancel(id, 'the call was cancelled')));
    if (cancelledFirst) {
      unsubscribe?.();
      settle(call, cancelled('the call was cancelled'));
      return;
    }
    id = this.#enqueue(call);
  }

  /**
   * Queues an item already encoded as JSON text, with the result as the child wrote it (see
   * RawResult), a failure too: the CLI passes input lines through and copies results out
   * unchanged
   */
  submitRaw(json: string, rawDone: RawResultCallback): void {
    this.#enqueue(newCall(this.#nextId++, json, undefined, rawDone, undefined, this.#settings.timeout));
  }

  // The call for an item, or undefined when the item cannot be sent as JSON (then answered)
  #call(item: unknown, done: ResultCallback, onStart: (() => void) | undefined, timeout: number | undefined): Call | undefined {
    let json: string | undefined;
    let problem: string;
    try {
      json = JSON.stringify(item);
      problem = `got ${typeof item}`;
    } catch (error) {
      problem = errorInfo(error).message;
    }
    if (json !== undefined) return newCall(this.#nextId++, json, done, undefined, onStart, timeout);
    done(failure(exitCodes.dataError, { name: 'SerializationError', message: `the item cannot be sent as JSON: ${problem}` }));
    return undefined;
  }

  #enqueue(call: Call): number {
    if (this.#closed) {
      this.#answer(call, cancelled(new PoolClosedError().message));
      return 0;
    }
    if (this.#noChildLeft !== undefined) {
      this.#answer(call, failure(1, this.#noChildLeft));
      return 0;
    }
    this.#pending.push(call);
    if (this.#started === undefined) void this.start().catch(() => {});
    this.#updateRef();
    this.#dispatch.schedule();
    return call.id;
  }

  // Cancels a call: a queued one never starts; a running one has its child killed and replaced.
  // Its result says `cancelled: true`. False when the call is already answered.
  #cancel(id: number, message: string): boolean {
    const call = this.#waiting.take(id) ?? this.#pending.remove((c) => c.id === id);
    if (call !== undefined) {
      this.#answer(call, cancelled(message));
      this.#updateRef();
      return true;
    }
    for (const slot of this.#slots) {
      const running = slot.inflight.get(id);
      if (running !== undefined) return slot.killFor(running, cancelled(message));
    }
    return false;
  }

  // Fills every ready child up to its pipeline depth, one write per child
  #dispatchAll(): void {
    if (this.#closed) return;
    const now = performance.now();
    for (const slot of this.#slots) {
      if (this.#pending.length === 0) break;
      const before = slot.inflight.size;
      const text = slot.fill(this.#pending, this.#settings.maxTasks, now);
      if (text === '') continue;
      this.#inflightCount += slot.inflight.size - before;
      slot.worker!.send(text);
      slot.armTimer();
    }
  }

  #onResults(worker: Worker, results: RawResult[], ids: number[]): void {
    const slot = this.#slots[worker.id]!;
    if (slot.worker !== worker) return;
    let answered = 0;
    const now = performance.now();
    const retryErrors = this.#settings.retry.onError;
    for (let i = 0; i < results.length; i++) {
      const call = slot.inflight.take(ids[i]!);
      if (call === undefined) continue;
      this.#inflightCount--;
      answered++;
      if (call.suspect) slot.isolating = false;
      this.#meter.latency(now - call.sentAt);
      const raw = results[i]!;
      if (retryErrors && raw.exit !== 0 && isItemError(raw)) {
        this.#fail(call, parseRaw(raw), 'error');
        continue;
      }
      raw.attempts = call.attempt;
      this.#meter.answered(raw.exit);
      if (call.rawDone !== undefined) call.rawDone(raw);
      else call.done!(parseRaw(raw));
    }
    this.#meter.results(worker.id, answered);
    slot.depth.answered(answered, now);
    slot.armTimer();
    this.#recycler.afterResults(slot, now);
    this.#updateRef();
    this.#dispatch.schedule();
  }

  // Answers a call with a result made by the pool, counting it
  #answer(call: Call, result: ItemResult): void {
    this.#meter.answered(result.exit, result.timedOut === true);
    settle(call, result);
  }

  // A failure of the call's own: it runs again after a delay if the retry policy allows, or
  // gets `result`
  #fail(call: Call, result: ItemResult, kind: RetryOn): void {
    const delay = this.#settings.retry.delayFor(kind, call.retried);
    if (delay === undefined || this.#closed) {
      this.#answer(call, result);
      return;
    }
    call.retried++;
    this.#meter.count('retried');
    this.#waiting.add(call, result, delay, () => {
      call.attempt++;
      if (this.#noChildLeft !== undefined) {
        this.#answer(call, failure(1, this.#noChildLeft));
        this.#updateRef();
        return;
      }
      this.#pending.unshift(call);
      this.#dispatch.schedule();
    });
  }

  // A new child in the place of one recycled or dead
  #replace(slot: Slot): void {
    this.#startWorker(slot).catch((error: unknown) => this.#onRestartFailed(slot, error));
  }

  #onExit(worker: Worker, exit: ChildExit): void {
    const slot = this.#slots[worker.id]!;
    if (slot.worker !== worker) return;
    slot.stopTimer();
    const calls = slot.inflight.values();
    slot.inflight.clear();
    this.#inflightCount -= calls.length;
    const killedFor = slot.killedFor;
    slot.killedFor = new Map();
    if (this.#closed) {
      for (const call of calls) this.#answer(call, cancelled('the pool was closed while the item was running'));
      return;
    }
    slot.isolating = false;
    const death = sortDeath(calls, killedFor, worker.exitingId, worker.ready?.one_at_a_time === true);
    if (death.crash) this.#meter.count('crashes');
    for (const [call, result] of death.killed) {
      if (result.timedOut === true) this.#fail(call, result, 'timeout');
      else this.#answer(call, result);
    }
    this.#pending.unshift(...death.requeued);
    if (death.blamed !== undefined) {
      this.#fail(death.blamed, failure(exit.status === 0 ? 1 : exit.status, { name: 'WorkerExitedError', message: exitMessage(exit) }), 'crash');
    }
    slot.depth.reset();
    this.#updateRef();
    this.#replace(slot);
  }

  // A replacement that cannot start leaves its slot empty; with no child left, pending items fail
  #onRestartFailed(slot: Slot, error: unknown): void {
    if (this.#closed) return;
    slot.worker = undefined;
    this.#settings.onOutput(Buffer.from(`polytask: child ${slot.id} could not be restarted: ${errorInfo(error).message}\n`), 'stderr', slot.id);
    if (this.#slots.some((s) => s.worker !== undefined)) return;
    // from now on every item, queued or still to come, fails at once
    this.#noChildLeft = { name: 'SetupError', message: `no child is left to run the item: ${errorInfo(error).message}` };
    for (const call of this.#pending.drain()) this.#answer(call, failure(1, this.#noChildLeft));
    this.#updateRef();
  }

  // Without keepAlive, children hold the event loop only while there is work
  #updateRef(): void {
    if (this.#settings.keepAlive) return;
    const busy = this.size > 0;
    if (busy === this.#referenced) return;
    this.#referenced = busy;
    for (const slot of this.#slots) slot.worker?.setRef(busy);
  }

  /** Counts so far, item latency, and each slot's items, restarts, CPU time and peak memory */
  stats(): PoolStats {
    const pids = this.#slots.map((slot) => slot.pid);
    pids.forEach((pid, id) => this.#meter.sample(id, pid));
    return this.#meter.snapshot(pids);
  }

  /**
   * Ends every child (EOF, then SIGTERM, then SIGKILL after `graceMs`) and answers unfinished
   * items as cancelled (an item waiting to be retried gets the failure it had). A second call
   * waits for the first (with the first one's grace), so that no caller goes on while children
   * are still there.
   */
  close(options: CloseOptions = {}): Promise<void> {
    try {
      knownOptions('ProcessPool.close()', options, closeOptionKeys);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close(options: CloseOptions): Promise<void> {
    this.#closed = true;
    for (const call of this.#pending.drain()) this.#answer(call, cancelled('the pool was closed before the item started'));
    for (const [call, result] of this.#waiting.drain()) this.#answer(call, result);
    await Promise.all([
      ...this.#slots.map((slot) => {
        slot.stopTimer();
        return slot.worker?.close(options.graceMs ?? 2000, slot.inflight.size > 0);
      }),
      this.#recycler.stop(),
    ]);
  }

  /** e.g. 'python 3.11.7, 2 children ready' once started */
  readyInfo(): string {
    const ready = this.#slots.flatMap((slot) => (slot.worker?.ready === undefined ? [] : [slot.worker.ready]));
    const first = ready[0];
    return first === undefined ? 'no child ready' : `${first.language} ${first.version}, ${ready.length} ${ready.length === 1 ? 'child' : 'children'} ready`;
  }

  /** Process ids of the running children */
  pids(): number[] {
    return this.#slots.flatMap((slot) => (slot.pid === undefined ? [] : [slot.pid]));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
