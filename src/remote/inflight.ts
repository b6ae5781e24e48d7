// The producer's items in flight and the jobs that carry them: each item is answered exactly
// once (a duplicate result, from a block run again after a stall, finds no item and is
// dropped), and a job that ended without the results of all its items has those sent again.
import type { ItemResult, RawResultCallback } from '../pool/items.js';
import { failure } from '../pool/process/call.js';
import { dropFront } from '../pool/queue.js';
import type { RetryPolicy } from '../pool/retry.js';
import { exitCodes } from '../protocol/exit-codes.js';
import { timing } from './keys.js';
import type { RemoteStats } from './stats.js';
import { failureKind } from './wire.js';

/** The result of an item lost with its worker `times` times, which is not sent again */
export function lostResult(times: number): ItemResult {
  return failure(exitCodes.itemFailed, { name: 'WorkerExitedError', message: `the item was lost with its worker ${times} times (killed, or its job failed)` });
}

/** A result made here as a worker sends one: its exit, and the JSON text of the fields after it */
export function asSent(result: ItemResult): { exit: number; rest: string } {
  const { exit, ...fields } = result;
  return { exit, rest: JSON.stringify(fields).slice(1) };
}

export interface Item {
  readonly id: number;
  readonly json: string;
  readonly done: RawResultCallback;
  readonly timeout: number | null;
  // called when a worker starts its job; once
  onStart: (() => void) | undefined;
  // times sent to a worker, retries used, and times lost with a worker (see timing.lostLimit)
  attempts: number;
  retried: number;
  lost: number;
  // the job carrying it, while it is in one
  job: JobRecord | undefined;
  sentAt: number;
}

export interface JobRecord {
  readonly id: string;
  readonly items: Item[];
  // items not answered yet
  left: number;
  // Date.now() when the producer first saw it gone from the queue without all its results
  goneAt: number | undefined;
}

// Items by id. Ids are given in order and answered mostly in order, so an array from the
// oldest unanswered id on finds one without hashing, and its answered front is cut off in one
// slice. Not a Map: a Map that takes and drops an entry per item reallocates its table, and
// an outgrown table in the old generation keeps every entry it held alive (pool/process/
// inflight.ts). An item left far behind (a slow one) moves to a small Map of its own.
class ItemTable {
  #slots: (Item | undefined)[] = [];
  // the id of #slots[0], and the place of the oldest item still there
  #base = 1;
  #head = 0;
  #size = 0;
  readonly #behind = new Map<number, Item>();

  get size(): number {
    return this.#size + this.#behind.size;
  }

  get(id: number): Item | undefined {
    const at = id - this.#base;
    return at >= 0 ? this.#slots[at] : this.#behind.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  // Items come in id order, each once
  add(item: Item): void {
    this.#slots[item.id - this.#base] = item;
    this.#size++;
  }

  delete(id: number): void {
    const at = id - this.#base;
    if (at < 0) {
      this.#behind.delete(id);
      return;
    }
    const slots = this.#slots;
    if (slots[at] === undefined) return;
    slots[at] = undefined;
    this.#size--;
    if (at !== this.#head) return;
    let head = at + 1;
    while (head < slots.length && slots[head] === undefined) head++;
    this.#head = head;
    // a slow item keeps the head back while later ones are answered: past a point, it waits
    // in #behind, so that the array stays about as long as the items in it
    if (slots.length > 4096 && slots.length > 4 * this.#size) {
      for (let i = head; i < slots.length / 2; i++) if (slots[i] !== undefined) this.#behind.set(slots[i]!.id, slots[i]!);
      this.#cut(Math.floor(slots.length / 2));
    } else if (dropFront(slots.length, head)) {
      this.#cut(head);
    }
  }

  #cut(at: number): void {
    this.#slots = this.#slots.slice(at);
    this.#base += at;
    this.#head = 0;
    while (this.#head < this.#slots.length && this.#slots[this.#head] === undefined) this.#head++;
    this.#size = 0;
    for (const item of this.#slots) if (item !== undefined) this.#size++;
  }

  values(): Item[] {
    return [...this.#behind.values(), ...this.#slots.slice(this.#head).filter((item): item is Item => item !== undefined)];
  }
}

export class InFlight {
  readonly items = new ItemTable();
  readonly jobs = new Map<string, JobRecord>();

  /** `send`: sends an item (again) in a job; `closing`: whether the producer is closing */
  constructor(
    readonly stats: RemoteStats,
    readonly retry: RetryPolicy,
    readonly send: (item: Item) => void,
    readonly closing: () => boolean,
  ) {}

  /**
   * A worker's result for the item `id`: answered, sent again later (the retry policy), or
   * dropped (a duplicate). `reruns`: the worker's runs of it after the first, attempts too.
   */
  result(id: number, exit: number, rest: string, fromReturn: boolean, reruns: number, now: number): void {
    const item = this.items.get(id);
    if (item === undefined || item.job === undefined) return;
    item.attempts += reruns;
    if (exit !== 0 && this.#retryLater(item, exit, rest, fromReturn)) return;
    this.stats.answered(exit, rest, now - item.sentAt);
    this.answer(id, exit, rest, fromReturn);
  }

  // A failure the retry policy runs again: the item leaves its job and is sent anew after the delay
  #retryLater(item: Item, exit: number, rest: string, fromReturn: boolean): boolean {
    if (this.retry.retries === 0 || fromReturn) return false;
    const kind = failureKind(exit, rest);
    const delay = kind === undefined ? undefined : this.retry.delayFor(kind, item.retried);
    if (delay === undefined) return false;
    item.retried++;
    this.stats.retried++;
    this.release(item);
    setTimeout(() => this.#sendAgain(item), delay).unref();
    return true;
  }

  #sendAgain(item: Item): void {
    if (this.closing() || !this.items.has(item.id)) return;
    item.attempts++;
    this.send(item);
  }

  /** Items lost with their worker (lost() below) go again; one lost more than timing.lostLimit times fails */
  sendLostAgain(items: readonly Item[]): void {
    for (const item of items) {
      this.stats.lost++;
      if (++item.lost <= timing.lostLimit) {
        this.#sendAgain(item);
        continue;
      }
      this.answerHere(item, lostResult(item.lost));
    }
  }

  /** Answers an item with a result made here (a failure, a cancellation) */
  answerHere(item: Item, result: ItemResult): void {
    this.stats.answered(result.exit, '', undefined);
    const { exit, rest } = asSent(result);
    this.answer(item.id, exit, rest, false);
  }

  get size(): number {
    return this.items.size;
  }

  add(item: Item): void {
    this.items.add(item);
  }

  carry(jobId: string, items: Item[]): void {
    const job: JobRecord = { id: jobId, items, left: items.length, goneAt: undefined };
    for (const item of items) item.job = job;
    this.jobs.set(jobId, job);
  }

  // A worker started the job: its items' onStart, once (not again when an item runs again)
  started(jobId: string): void {
    for (const item of this.jobs.get(jobId)?.items ?? []) {
      if (item.job?.id !== jobId || item.onStart === undefined) continue;
      const onStart = item.onStart;
      item.onStart = undefined;
      onStart();
    }
  }

  // Takes an item out of its job: it is answered, or waits to be sent again
  release(item: Item): void {
    const job = item.job;
    if (job === undefined) return;
    item.job = undefined;
    if (--job.left === 0) this.jobs.delete(job.id);
  }

  // Answers an item once; false when it was answered already
  answer(id: number, exit: number, rest: string, fromReturn: boolean): boolean {
    const item = this.items.get(id);
    if (item === undefined) return false;
    this.items.delete(id);
    this.release(item);
    item.done(fromReturn ? { exit, rest, attempts: item.attempts, fromReturn } : { exit, rest, attempts: item.attempts });
    return true;
  }

  // Jobs seen gone from the queue (or never added): the time is kept from the first sighting
  markGone(jobIds: string[]): void {
    const now = Date.now();
    for (const id of jobIds) {
      const job = this.jobs.get(id);
      if (job !== undefined) job.goneAt ??= now;
    }
  }

  // The items of jobs gone without their results, once every result written before they were
  // seen gone has been read (`caughtUpTo`); those jobs are forgotten
  lost(gone: string[], caughtUpTo: number): Item[] {
    this.markGone(gone);
    return gone.flatMap((id) => {
      const goneAt = this.jobs.get(id)?.goneAt;
      return goneAt === undefined || goneAt >= caughtUpTo ? [] : this.#orphans(id);
    });
  }

  #orphans(jobId: string): Item[] {
    const job = this.jobs.get(jobId);
    if (job === undefined) return [];
    this.jobs.delete(jobId);
    const left = job.items.filter((item) => item.job === job);
    for (const item of left) item.job = undefined;
    return left;
  }
}
