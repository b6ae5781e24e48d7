// The cross-language pool: N long-lived children, each with several calls in flight.
//
//   submit(data) --> pending queue --> dispatch --> slot.inflight (oldest first)
//                                                      |  call lines on fd 3
//                                                      v
//                                                   child (handlers/*) runs handler(event, context)
//                                                      |  result lines on fd 4
//   callback(result) <-- onResults <-------------------+
//
// A child that dies fails the call it was running (WorkerExitedError; TimeoutError or a
// cancellation when the pool killed it) and its other calls go back to the pending queue; when
// the call to blame cannot be known, they all run again one at a time (see #onExit). A
// replacement child takes the slot. Every submitted item gets exactly one result; a failure of
// the item's own (crash, timeout, or error when asked) can send it round again (retry.ts).
// Children are also replaced between items after maxTasksPerWorker items or above maxMemoryMb.
import { availableParallelism } from 'node:os';
import { errorInfo, OptionError, PoolClosedError, type ErrorInfo } from '../errors.js';
import { closeOptionKeys, knownOptions, optionKeys, positiveInteger } from '../options.js';
import { callLine } from '../protocol/messages.js';
import type { ResolvedSpec } from '../spec/load.js';
import { Worker, type ChildExit, type OutputSink } from './worker.js';
import { Depth } from './depth.js';
import { InflightCalls } from './inflight.js';
import { callOnPool } from './pool-call.js';
import type { Future } from '../futures/future.js';
import { cancelled, exitCodes, failure, isItemError, newCall, parseRaw, settle, type Call, type ItemResult, type RawResult, type RawResultCallback, type ResultCallback } from './call.js';
import { RetryPolicy, RetryQueue, retryOptionKeys, type RetryOn, type RetryOptions } from './retry.js';
import { PoolMeter, type PoolStats } from './stats.js';

export type { ItemResult, RawResult, RawResultCallback, ResultCallback } from './call.js';
export type { RetryOn, RetryOptions } from './retry.js';
export type { PoolStats, WorkerStats } from './stats.js';

export const poolOptionKeys = optionKeys<PoolOptions>()([...retryOptionKeys, 'processes', 'timeout', 'pipeline', 'setupTimeout', 'onWorkerOutput', 'keepAlive', 'attachTerminal', 'maxTasksPerWorker', 'maxMemoryMb']);
export interface PoolOptions extends RetryOptions {
  // number of children (default: the number of CPUs)
  processes?: number;
  // per-item timeout in ms; the child is killed and replaced (default: none)
  timeout?: number;
  // calls in flight per child: a number, or 'auto' to adapt to the item time (default)
  pipeline?: number | 'auto';
  // ms a child may take to load the code and run the setup hook (default 120000)
  setupTimeout?: number;
  // where the children's own fd 1/2 output goes (default: this process's stderr)
  onWorkerOutput?: OutputSink;
  // false: idle children do not keep this process alive (default true)
  keepAlive?: boolean;
  // children share this terminal (fd 0-2) and do not capture output: for debugging (default false)
  attachTerminal?: boolean;
  // a child is replaced, between items, after it has run this many items (default: never)
  maxTasksPerWorker?: number;
  // a child is replaced, between items, once its resident memory is above this many MB
  // (read from /proc on Linux as results come, every 20 ms at most; default: no limit)
  maxMemoryMb?: number;
}

// how often the children's CPU time and memory are read (with maxMemoryMb, also between items:
// see PoolMeter.memoryDue)
const sampleEveryMs = 250;

interface Slot {
  worker: Worker | undefined;
  inflight: InflightCalls;
  depth: Depth;
  timer: NodeJS.Timeout | undefined;
  timedHead: Call | undefined;
  // the calls the pool killed this child for (timeouts, cancels), and the results they get
  killedFor: Map<Call, ItemResult>;
  // a suspect call is in flight: nothing else goes to this child until it is answered
  isolating: boolean;
  // calls sent to the current child, and whether it is to be replaced once idle (recycling)
  sent: number;
  retiring: boolean;
}



export class ProcessPool {
  readonly spec: ResolvedSpec;
  readonly processes: number;
  readonly #timeout: number | undefined;
  readonly #setupTimeout: number;
  readonly #pipeline: number | 'auto';
  readonly #onOutput: OutputSink;
  readonly #slots: Slot[] = [];
  #pending: Call[] = [];
  #pendingHead = 0;
  #nextId = 1;
  #dispatchQueued = false;
  #started: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #inflightCount = 0;
  readonly #keepAlive: boolean;
  readonly #attachTerminal: boolean;
  #referenced = true;
  // set when every child has died and none could be restarted
  #noChildLeft: ErrorInfo | undefined;
  readonly #retry: RetryPolicy;
  readonly #waiting = new RetryQueue();
  readonly #maxTasks: number | undefined;
  readonly #maxMemoryMb: number | undefined;
  // children being replaced between items: close() must still end them
  readonly #retiring = new Set<Promise<unknown>>();
  #sampler: NodeJS.Timeout | undefined;
  readonly #meter: PoolMeter;

  constructor(spec: ResolvedSpec, options: PoolOptions = {}) {
    knownOptions('ProcessPool', options, poolOptionKeys);
    this.spec = spec;
    this.processes = positiveInteger('processes', options.processes ?? availableParallelism());
    this.#timeout = options.timeout === undefined ? undefined : positiveInteger('timeout', options.timeout);
    this.#setupTimeout = positiveInteger('setupTimeout', options.setupTimeout ?? 120_000);
    const pipeline = options.pipeline ?? 'auto';
    this.#pipeline = pipeline === 'auto' ? pipeline : positiveInteger('pipeline', pipeline);
    this.#onOutput = options.onWorkerOutput ?? ((chunk) => process.stderr.write(chunk));
    this.#keepAlive = options.keepAlive ?? true;
    this.#attachTerminal = options.attachTerminal ?? false;
    this.#retry = new RetryPolicy(options);
    this.#maxTasks = options.maxTasksPerWorker === undefined ? undefined : positiveInteger('maxTasksPerWorker', options.maxTasksPerWorker);
    if (options.maxMemoryMb !== undefined && !(typeof options.maxMemoryMb === 'number' && options.maxMemoryMb > 0)) {
      throw new OptionError(`Expected the \`maxMemoryMb\` option to be a positive number, got \`${String(options.maxMemoryMb)}\` (${typeof options.maxMemoryMb})`);
    }
    this.#maxMemoryMb = options.maxMemoryMb;
    this.#meter = new PoolMeter(this.processes);
  }

  // Without keepAlive, children hold the event loop only while there is work
  #updateRef(): void {
    if (this.#keepAlive) return;
    const busy = this.size > 0;
    if (busy === this.#referenced) return;
    this.#referenced = busy;
    for (const slot of this.#slots) slot.worker?.setRef(busy);
  }

  // Items submitted and not yet answered
  get size(): number {
    return this.#pending.length - this.#pendingHead + this.#inflightCount + this.#waiting.size;
  }

  // How many items the pool can usefully hold at once (children x pipeline depth)
  get capacity(): number {
    let total = 0;
    for (const slot of this.#slots) total += slot.depth.value;
    return Math.max(total, this.processes);
  }

  // Starts every child and waits until all are ready; rejects with a SetupError
  start(): Promise<void> {
    this.#started ??= this.#startAll();
    return this.#started;
  }

  async #startAll(): Promise<void> {
    for (let id = 0; id < this.processes; id++) {
      const depth = new Depth(this.#pipeline);
      this.#slots.push({
        worker: undefined, inflight: new InflightCalls(), depth, timer: undefined, timedHead: undefined, killedFor: new Map(), isolating: false,
        sent: 0, retiring: false,
      });
    }
    this.#sampler = setInterval(() => this.#sample(), sampleEveryMs).unref();
    const results = await Promise.allSettled(this.#slots.map((_, id) => this.#startWorker(id)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      const info = { name: 'SetupError', message: errorInfo(failed.reason).message };
      for (const call of this.#takePending()) this.#answer(call, failure(1, info));
      this.#updateRef();
      await this.close();
      throw failed.reason;
    }
  }

  async #startWorker(id: number): Promise<void> {
    const worker = new Worker(id, this.spec, {
      onResults: (w, results, ids) => this.#onResults(w, results, ids),
      onExit: (w, exit) => this.#onExit(w, exit),
      onOutput: this.#onOutput,
    });
    const slot = this.#slots[id]!;
    slot.worker = worker;
    slot.sent = 0;
    slot.retiring = false;
    this.#meter.childStarted(id);
    await worker.start({ setupTimeout: this.#setupTimeout, attachTerminal: this.#attachTerminal, timeout: this.#timeout });
    if (this.#closed) {
      await worker.close(0, true);
      return;
    }
    if (!this.#keepAlive) worker.setRef(this.#referenced);
    this.#scheduleDispatch();
  }

  // Queues one item; `done` is called exactly once with its result. Returns the call's id
  // (for cancel()), or 0 when the item was answered at once.
  submit(data: unknown, done: ResultCallback, onStart?: () => void): number {
    let json: string | undefined;
    try {
      json = JSON.stringify(data);
    } catch (error) {
      done(failure(exitCodes.dataError, { name: 'SerializationError', message: `the item cannot be sent as JSON: ${errorInfo(error).message}` }));
      return 0;
    }
    if (json === undefined) {
      done(failure(exitCodes.dataError, { name: 'SerializationError', message: `the item cannot be sent as JSON: got ${typeof data}` }));
      return 0;
    }
    return this.#enqueue(newCall(this.#nextId++, json, done, undefined, onStart));
  }

  // Queues an item already encoded as JSON text, with the result as the child wrote it
  // (see RawResult): the CLI passes input lines through and copies results out unchanged
  submitRawJson(json: string, rawDone: RawResultCallback): void {
    this.#enqueue(newCall(this.#nextId++, json, undefined, rawDone, undefined));
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
    this.#scheduleDispatch();
    return call.id;
  }

  // Cancels a call: a queued one never starts; a running one has its child killed and
  // replaced. Its result says `cancelled: true`. False when the call is already answered.
  cancel(id: number, message = 'the item was cancelled'): boolean {
    const waiting = this.#waiting.take(id);
    if (waiting !== undefined) {
      this.#answer(waiting, cancelled(message));
      this.#updateRef();
      return true;
    }
    const index = this.#pending.findIndex((call, i) => i >= this.#pendingHead && call.id === id);
    if (index !== -1) {
      const [call] = this.#pending.splice(index, 1);
      this.#answer(call!, cancelled(message));
      this.#updateRef();
      return true;
    }
    for (const slot of this.#slots) {
      const call = slot.inflight.get(id);
      if (call === undefined) continue;
      if (slot.killedFor.has(call)) return false;
      slot.killedFor.set(call, cancelled(message));
      slot.worker?.kill('SIGKILL');
      return true;
    }
    return false;
  }

  // Runs one item and resolves with its result (never rejects for an item failure)
  run(data: unknown): Promise<ItemResult> {
    return new Promise((resolve) => this.submit(data, resolve));
  }

  // Runs the handler with the argument array as its event; see pool-call.ts
  call<T = unknown>(...args: unknown[]): Future<T> {
    return callOnPool<T>(this, args, this.#timeout);
  }

  #scheduleDispatch(): void {
    if (this.#dispatchQueued) return;
    this.#dispatchQueued = true;
    queueMicrotask(() => {
      this.#dispatchQueued = false;
      this.#dispatch();
    });
  }

  // Fills every ready child up to its pipeline depth, one write per child
  #dispatch(): void {
    if (this.#closed) return;
    for (const slot of this.#slots) {
      if (this.#pendingHead >= this.#pending.length) break;
      const worker = slot.worker;
      if (worker?.ready === undefined || !worker.alive) continue;
      if (slot.isolating || slot.retiring) continue;
      // a child that will be recycled gets no more than its quota
      const quota = this.#maxTasks === undefined ? slot.depth.value : Math.min(slot.depth.value, slot.inflight.size + this.#maxTasks - slot.sent);
      // refill a busy child only once it has room for a good batch: fewer, larger writes
      const room = quota - slot.inflight.size;
      if (room <= 0 || (slot.inflight.size > 0 && room * 2 < slot.depth.value && this.#pendingHead + room < this.#pending.length)) continue;
      let text = '';
      const wasIdle = slot.inflight.size === 0;
      const now = performance.now();
      while (slot.inflight.size < quota && this.#pendingHead < this.#pending.length) {
        const call = this.#pending[this.#pendingHead]!;
        if (call.suspect && slot.inflight.size > 0) break;
        this.#pending[this.#pendingHead++] = undefined as unknown as Call;
        slot.inflight.add(call);
        slot.sent++;
        call.sentAt = now;
        this.#inflightCount++;
        text += callLine(call.id, call.attempt, call.json);
        call.onStart?.();
        if (call.suspect) {
          slot.isolating = true;
          break;
        }
      }
      if (text !== '') {
        if (wasIdle) slot.depth.busySince(now);
        worker.send(text);
        this.#armTimer(slot);
      }
    }
    if (this.#pendingHead > 1024 && this.#pendingHead * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#pendingHead);
      this.#pendingHead = 0;
    }
  }

  #onResults(worker: Worker, results: RawResult[], ids: number[]): void {
    const slot = this.#slots[worker.id]!;
    if (slot.worker !== worker) return;
    let answered = 0;
    const now = performance.now();
    const retryErrors = this.#retry.onError;
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
    this.#armTimer(slot);
    if (this.#maxTasks !== undefined && slot.sent >= this.#maxTasks) slot.retiring = true;
    // the memory ceiling is checked between items too, now and then (PoolMeter.memoryDue)
    if (this.#maxMemoryMb !== undefined && this.#meter.memoryDue(worker.id, now)) {
      const rss = this.#meter.sample(worker.id, this.#livePid(slot));
      if (rss !== undefined && rss > this.#maxMemoryMb) slot.retiring = true;
    }
    if (slot.retiring && slot.inflight.size === 0) this.#recycle(slot);
    this.#updateRef();
    this.#scheduleDispatch();
  }

  // Answers a call with a result made by the pool, counting it
  #answer(call: Call, result: ItemResult): void {
    this.#meter.answered(result.exit, result.timedOut === true);
    settle(call, result);
  }

  // A failure of the call's own: it runs again after a delay if the retry policy allows, or
  // gets `result`
  #fail(call: Call, result: ItemResult, kind: RetryOn): void {
    const delay = this.#retry.delayFor(kind, call.retried);
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
      this.#pending.splice(this.#pendingHead, 0, call);
      this.#scheduleDispatch();
    });
  }

  // Replaces an idle child that has run its quota or grown too big; no item is touched
  #recycle(slot: Slot): void {
    const worker = slot.worker;
    if (worker === undefined || this.#closed) return;
    this.#meter.count('recycled');
    this.#meter.sample(worker.id, this.#livePid(slot));
    slot.worker = undefined;
    clearTimeout(slot.timer);
    slot.timedHead = undefined;
    slot.depth.reset();
    const closing = worker.close(2000).finally(() => this.#retiring.delete(closing));
    this.#retiring.add(closing);
    this.#startWorker(worker.id).catch((error: unknown) => this.#onRestartFailed(worker.id, error));
  }

  // Reads each child's CPU time and memory; a child above maxMemoryMb is recycled once idle
  #sample(): void {
    this.#slots.forEach((slot, id) => {
      // a child still starting is left alone: recycling it would fail its start
      if (slot.worker?.ready === undefined) return;
      const rss = this.#meter.sample(id, this.#livePid(slot));
      if (rss === undefined || this.#maxMemoryMb === undefined || rss <= this.#maxMemoryMb) return;
      slot.retiring = true;
      if (slot.inflight.size === 0) this.#recycle(slot);
    });
  }

  #livePid(slot: Slot): number | undefined {
    return slot.worker?.alive === true ? slot.worker.pid : undefined;
  }

  // Counts so far, item latency, and each slot's items, restarts, CPU time and peak memory
  stats(): PoolStats {
    const pids = this.#slots.map((slot) => this.#livePid(slot));
    pids.forEach((pid, id) => this.#meter.sample(id, pid));
    return this.#meter.snapshot(pids);
  }

  // Times the oldest call of a child; the clock starts when it becomes the oldest
  #armTimer(slot: Slot): void {
    if (this.#timeout === undefined) return;
    const head = slot.inflight.oldest();
    if (head === slot.timedHead) return;
    clearTimeout(slot.timer);
    slot.timedHead = head;
    slot.timer = head === undefined ? undefined : setTimeout(() => {
      if (slot.inflight.oldest() !== head) return;
      if (slot.killedFor.has(head)) return;
      const message = `item timed out after ${this.#timeout} ms; its child was killed and replaced`;
      slot.killedFor.set(head, { ...failure(exitCodes.timeout, { name: 'TimeoutError', message }), timedOut: true });
      slot.worker?.kill('SIGKILL');
    }, this.#timeout);
  }

  #onExit(worker: Worker, exit: ChildExit): void {
    const slot = this.#slots[worker.id]!;
    if (slot.worker !== worker) return;
    clearTimeout(slot.timer);
    slot.timedHead = undefined;
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
    if (killedFor.size === 0) this.#meter.count('crashes');
    // the calls the pool killed the child for (timeouts, cancels) get those results
    const remaining = calls.filter((call) => {
      const result = killedFor.get(call);
      if (result?.timedOut === true) this.#fail(call, result, 'timeout');
      else if (result !== undefined) this.#answer(call, result);
      return result === undefined;
    });
    // the item to blame for a death the pool did not cause: the one that said it exits, or the
    // only one that can have been running. Otherwise (a child that runs items concurrently or
    // batches its results died without a word) every item in flight is a suspect and runs
    // again alone, so that only the culprit fails.
    let blamed: Call | undefined;
    if (killedFor.size === 0) {
      const certain = remaining.length === 1 || worker.ready?.one_at_a_time === true;
      blamed = worker.exitingId !== undefined ? remaining.find((call) => call.id === worker.exitingId) : certain ? remaining[0] : undefined;
    }
    const requeued = remaining.filter((call) => call !== blamed);
    for (const call of requeued) {
      // it may have started on the dead child: the handler sees the next attempt number
      call.attempt++;
      if (blamed === undefined && killedFor.size === 0) call.suspect = true;
    }
    this.#pending.splice(this.#pendingHead, 0, ...requeued);
    if (blamed !== undefined) {
      const how = exit.signal === null ? `exited with status ${exit.code}` : `was killed by ${exit.signal}`;
      // a child that exits with status 0 in the middle of an item has still failed it
      this.#fail(blamed, failure(exit.status === 0 ? 1 : exit.status, { name: 'WorkerExitedError', message: `the child running this item ${how}` }), 'crash');
    }
    slot.depth.reset();
    this.#updateRef();
    this.#startWorker(worker.id).catch((error: unknown) => this.#onRestartFailed(worker.id, error));
  }

  // A replacement that cannot start leaves its slot empty; with no child left, pending items fail
  #onRestartFailed(id: number, error: unknown): void {
    if (this.#closed) return;
    const slot = this.#slots[id]!;
    slot.worker = undefined;
    this.#onOutput(Buffer.from(`polytask: child ${id} could not be restarted: ${errorInfo(error).message}\n`), 'stderr', id);
    if (this.#slots.some((s) => s.worker !== undefined)) return;
    // from now on every item, queued or still to come, fails at once
    this.#noChildLeft = { name: 'SetupError', message: `no child is left to run the item: ${errorInfo(error).message}` };
    for (const call of this.#takePending()) this.#answer(call, failure(1, this.#noChildLeft));
    this.#updateRef();
  }

  #takePending(): Call[] {
    const pending = this.#pending.slice(this.#pendingHead);
    this.#pending = [];
    this.#pendingHead = 0;
    return pending;
  }

  // Ends every child (EOF, then SIGTERM, then SIGKILL) and answers unfinished items as cancelled
  // (an item waiting to be retried gets the failure it had). A second call waits for the first
  // (with the first one's grace), so that no caller goes on while children are still there.
  close(options: { graceMs?: number } = {}): Promise<void> {
    try {
      knownOptions('ProcessPool.close()', options, closeOptionKeys);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close(options: { graceMs?: number }): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sampler);
    for (const call of this.#takePending()) this.#answer(call, cancelled('the pool was closed before the item started'));
    for (const [call, result] of this.#waiting.drain()) this.#answer(call, result);
    await Promise.all([
      ...this.#slots.map((slot) => {
        clearTimeout(slot.timer);
        return slot.worker?.close(options.graceMs ?? 2000, slot.inflight.size > 0);
      }),
      ...this.#retiring,
    ]);
  }

  // e.g. 'python 3.11.7, 2 children' once started
  readyInfo(): string {
    const ready = this.#slots.flatMap((slot) => (slot.worker?.ready === undefined ? [] : [slot.worker.ready]));
    const first = ready[0];
    return first === undefined ? 'no child ready' : `${first.language} ${first.version}, ${ready.length} ${ready.length === 1 ? 'child' : 'children'} ready`;
  }

  // Process ids of the running children (for tests and stats)
  pids(): number[] {
    return this.#slots.flatMap((slot) => (slot.worker?.alive && slot.worker.pid !== undefined ? [slot.worker.pid] : []));
  }
}
