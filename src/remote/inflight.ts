// The producer's items in flight and the jobs that carry them: each item is answered exactly
// once (a duplicate result, from a block run again after a stall, finds no item and is
// dropped), and a job that ended without the results of all its items has those sent again.
import type { RawResult, RawResultCallback } from '../pool/items.js';

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
  job: string | undefined;
  sentAt: number;
}

export interface JobRecord {
  readonly items: Item[];
  // items not answered yet
  left: number;
  // Date.now() when the producer first saw it gone from the queue without all its results
  goneAt: number | undefined;
}

export class InFlight {
  readonly items = new Map<number, Item>();
  readonly jobs = new Map<string, JobRecord>();

  get size(): number {
    return this.items.size;
  }

  add(item: Item): void {
    this.items.set(item.id, item);
  }

  carry(jobId: string, items: Item[]): void {
    for (const item of items) item.job = jobId;
    this.jobs.set(jobId, { items, left: items.length, goneAt: undefined });
  }

  // Takes an item out of its job: it is answered, or waits to be sent again
  release(item: Item): void {
    const jobId = item.job;
    if (jobId === undefined) return;
    item.job = undefined;
    const job = this.jobs.get(jobId);
    if (job !== undefined && --job.left === 0) this.jobs.delete(jobId);
  }

  // Answers an item once; false when it was answered already
  answer(id: number, raw: Omit<RawResult, 'attempts'>): boolean {
    const item = this.items.get(id);
    if (item === undefined) return false;
    this.items.delete(id);
    this.release(item);
    item.done({ ...raw, attempts: item.attempts });
    return true;
  }

  // The items of a job that ended without their results; the job is forgotten
  orphans(jobId: string): Item[] {
    const job = this.jobs.get(jobId);
    if (job === undefined) return [];
    this.jobs.delete(jobId);
    const left = job.items.filter((item) => item.job === jobId && this.items.get(item.id) === item);
    for (const item of left) item.job = undefined;
    return left;
  }
}
