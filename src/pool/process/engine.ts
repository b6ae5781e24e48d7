// The pool's machinery (ProcessPool in pool.ts is its Executor face):
//
//   enqueue(call) --> pending queue --> dispatch --> slot.inflight (oldest first)   (slot.ts)
//                                                       |  call lines or calls blocks on fd 3
//                                                       v
//                                                    child (handlers/*) runs handler(event, context)
//                                                       |  result lines on fd 4     (worker.ts)
//   call.done / call.rawDone <-- onResults <------------+
//
// A child's death fails the call to blame, the others run again (deaths.ts); a replacement
// takes the slot. A failure of the item's own can send it round again (retry.ts). Children are
// also replaced between items (recycle.ts). Every call gets exactly one answer.
import { errorInfo, PoolClosedError, type ErrorInfo } from '../../errors.js';
import type { LinesMessage } from '../../protocol/messages.js';
import type { ResolvedSpec } from '../../spec/load.js';
import type { CloseOptions } from '../executor.js';
import { Queue } from '../queue.js';
import type { RetryOn } from '../retry.js';
import { Microtask } from '../schedule.js';
import { cancelled, failure, isItemError, parseRaw, settle, unanswered, type Call, type ItemResult, type RawResult } from './call.js';
import { exitMessage, sortDeath } from './deaths.js';
import type { PoolSettings } from './options.js';
import { Recycler } from './recycle.js';
import { RetryQueue } from './retry-queue.js';
import { Slot } from './slot.js';
import { PoolMeter, type PoolStats } from './stats.js';
import { Worker, type ChildExit } from './worker.js';

export class PoolEngine {
  // the places of the children (read by ProcessPool for its figures)
  readonly slots: Slot[] = [];
  readonly #pending = new Queue<Call>();
  readonly #waiting = new RetryQueue();
  readonly #dispatch = new Microtask(() => this.#dispatchAll());
  readonly #meter: PoolMeter;
  readonly #recycler: Recycler;
  #started: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly settings: PoolSettings;
  #referenced = true;
  // set when every child has died and none could be restarted
  #noChildLeft: ErrorInfo | undefined;

  constructor(readonly spec: ResolvedSpec, settings: PoolSettings) {
    this.settings = settings;
    this.#meter = new PoolMeter(settings.processes);
    for (let id = 0; id < settings.processes; id++) this.slots.push(new Slot(id, this.settings.pipeline));
    this.#recycler = new Recycler(this.settings, this.#meter, (slot) => this.#replace(slot));
  }

  // Items submitted and not yet answered
  get size(): number {
    let inflight = 0;
    for (const slot of this.slots) inflight += slot.inflight.size;
    return this.#pending.length + inflight + this.#waiting.size;
  }

  // Starts every child and waits until all are ready; rejects with a SetupError
  start(): Promise<void> {
    return (this.#started ??= this.#startAll());
  }

  async #startAll(): Promise<void> {
    this.#recycler.start(this.slots);
    const results = await Promise.allSettled(this.slots.map((slot) => this.#startWorker(slot)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      for (const call of this.#pending.drain()) this.answer(call, failure(1, { name: 'SetupError', message: errorInfo(failed.reason).message }));
      this.#updateRef();
      await this.close({});
      throw failed.reason;
    }
    this.#updateRef(); // started and idle: without keepAlive the children let Node exit
  }

  async #startWorker(slot: Slot): Promise<void> {
    const worker = new Worker(slot.id, this.spec, {
      onResults: (w, results, ids) => this.#onResults(w, results, ids),
      onLines: (w, head, out) => this.#onLines(w, head, out),
      onExit: (w, exit) => this.#onExit(w, exit),
      onOutput: this.settings.onOutput,
    });
    slot.occupy(worker);
    this.#meter.childStarted(slot.id);
    const { setupTimeout, attachTerminal, timeout, keepAlive, linesOutput } = this.settings;
    await worker.start({ setupTimeout, attachTerminal, timeout, linesOutput });
    if (this.#closed) {
      await worker.close(0, true);
      return;
    }
    if (!keepAlive) worker.setRef(this.#referenced);
    this.#dispatch.schedule();
  }

  get closed(): boolean {
    return this.#closed;
  }

  // Queues a call; its id, or 0 when it was answered at once (a closed pool, no child left)
  enqueue(call: Call): number {
    if (this.#closed) {
      this.answer(call, cancelled(new PoolClosedError().message));
      return 0;
    }
    if (this.#noChildLeft !== undefined) {
      this.answer(call, failure(1, this.#noChildLeft));
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
  cancel(id: number, message: string): boolean {
    const call = this.#waiting.take(id) ?? this.#pending.remove((c) => c.id === id);
    if (call !== undefined) {
      this.answer(call, cancelled(message));
      this.#updateRef();
      return true;
    }
    for (const slot of this.slots) {
      const running = slot.inflight.get(id);
      if (running !== undefined) return slot.killFor(running, cancelled(message));
    }
    return false;
  }

  // Fills every ready child up to its pipeline depth, one write per child
  #dispatchAll(): void {
    if (this.#closed) return;
    const now = performance.now();
    for (const slot of this.slots) {
      if (this.#pending.length === 0) break;
      const text = slot.fill(this.#pending, this.settings.maxTasks, now);
      if (text.length === 0) continue;
      slot.worker!.send(text);
      slot.armTimer();
    }
  }

  #onResults(worker: Worker, results: RawResult[], ids: number[]): void {
    const slot = this.slots[worker.id]!;
    if (slot.worker !== worker) return;
    let answered = 0;
    const now = performance.now();
    const retryErrors = this.settings.retry.onError;
    for (let i = 0; i < results.length; i++) {
      const call = slot.inflight.take(ids[i]!);
      if (call === undefined) continue;
      answered++;
      if (call.suspect) slot.isolating = false;
      this.#meter.latency(now - call.sentAt);
      const raw = results[i]!;
      if (retryErrors && isItemError(raw)) {
        this.#fail(call, parseRaw(raw), 'error');
        continue;
      }
      raw.attempts = call.attempt;
      this.#meter.answered(raw.exit);
      if (call.rawDone !== undefined) call.rawDone(raw);
      else call.done!(parseRaw(raw));
    }
    slot.items -= answered;
    this.#meter.results(worker.id, answered);
    this.#afterAnswers(slot, answered, now);
  }

  #afterAnswers(slot: Slot, answered: number, now: number): void {
    slot.depth.answered(answered, now);
    slot.armTimer();
    this.#recycler.afterResults(slot, now);
    this.#updateRef();
    this.#dispatch.schedule();
  }

  // The next lines of a `lines` block are answered
  #onLines(worker: Worker, head: LinesMessage, out: Buffer[]): void {
    const slot = this.slots[worker.id]!;
    if (slot.worker !== worker) return;
    const answer = slot.linesAnswered(head, out);
    if (answer === undefined) return worker.protocolError(`a lines message that answers no block in flight: ${JSON.stringify(head)}`);
    const { call, chunk } = answer;
    const now = performance.now();
    this.#meter.chunk(worker.id, chunk.outLines + chunk.bad.length, chunk.failed, now - call.sentAt);
    call.lines!.owner.answered(call, chunk);
    this.#afterAnswers(slot, head.count, now);
  }

  // Answers a call with a result made by the pool, counting it (each line of a `lines` block)
  answer(call: Call, result: ItemResult): void {
    if (call.lines !== undefined) {
      for (const one of unanswered(call)) this.answer(one, result);
      return;
    }
    this.#meter.answered(result.exit, result.timedOut === true);
    settle(call, result);
  }

  // A failure of the call's own: it runs again after a delay if the retry policy allows, or gets `result`
  #fail(call: Call, result: ItemResult, kind: RetryOn): void {
    const delay = this.settings.retry.delayFor(kind, call.retried);
    if (delay === undefined || this.#closed) {
      this.answer(call, result);
      return;
    }
    call.retried++;
    this.#meter.count('retried');
    this.#waiting.add(call, result, delay, () => {
      call.attempt++;
      if (this.#noChildLeft !== undefined) {
        this.answer(call, failure(1, this.#noChildLeft));
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
    const slot = this.slots[worker.id]!;
    if (slot.worker !== worker) return;
    const { calls, killedFor } = slot.emptied();
    if (this.#closed) {
      for (const call of calls) this.answer(call, cancelled('the pool was closed while the item was running'));
      return;
    }
    slot.isolating = false;
    const death = sortDeath(calls, killedFor, worker.exitingId, worker.ready?.one_at_a_time === true);
    if (death.crash) this.#meter.count('crashes');
    for (const [call, result] of death.killed) {
      if (result.timedOut === true) this.#fail(call, result, 'timeout');
      else this.answer(call, result);
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
    this.settings.onOutput(Buffer.from(`polytask: child ${slot.id} could not be restarted: ${errorInfo(error).message}\n`), 'stderr', slot.id);
    if (this.slots.some((s) => s.worker !== undefined)) return;
    // from now on every item, queued or still to come, fails at once
    this.#noChildLeft = { name: 'SetupError', message: `no child is left to run the item: ${errorInfo(error).message}` };
    for (const call of this.#pending.drain()) this.answer(call, failure(1, this.#noChildLeft));
    this.#updateRef();
  }

  // Without keepAlive, children hold the event loop only while there is work
  #updateRef(): void {
    if (this.settings.keepAlive || this.#closed) return;
    const busy = this.size > 0;
    if (busy === this.#referenced) return;
    this.#referenced = busy;
    for (const slot of this.slots) slot.worker?.setRef(busy);
  }

  // Counts so far, item latency, and each slot's items, restarts, CPU time and peak memory
  stats(): PoolStats {
    const pids = this.slots.map((slot) => slot.pid);
    pids.forEach((pid, id) => this.#meter.sample(id, pid));
    return this.#meter.snapshot(pids);
  }

  // Ends every child and answers every call; a second call waits for the first
  close(options: CloseOptions): Promise<void> {
    return (this.#closing ??= this.#close(options));
  }

  async #close(options: CloseOptions): Promise<void> {
    this.#closed = true;
    for (const slot of this.slots) slot.worker?.setRef(true); // a closing pool holds Node until its children are gone
    for (const call of this.#pending.drain()) this.answer(call, cancelled('the pool was closed before the item started'));
    for (const [call, result] of this.#waiting.drain()) this.answer(call, result);
    await Promise.all([
      ...this.slots.map((slot) => {
        slot.stopTimer();
        return slot.worker?.close(options.graceMs ?? 2000, slot.inflight.size > 0);
      }),
      this.#recycler.stop(),
    ]);
  }
}
