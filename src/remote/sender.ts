// Packs items into BullMQ jobs: a block holds about 200 ms of work (measured by the workers),
// at most 1,000 items or 256 KB; the blocks cut in one turn of the event loop go in one
// addBulk. A block size of one keeps slow items spread over every worker's children.
import type { Queue } from 'bullmq';
import type { InFlight, Item } from './inflight.js';
import type { JobData } from './wire.js';

const maxItems = 1000;
export const maxBytes = 256 * 1024;
const targetMs = 200;
// before the first measurement: small blocks, so that slow items are not stuck in a few
const firstBlock = 8;

interface NewJob {
  name: string;
  data: JobData;
  opts: { jobId: string; removeOnComplete: true; removeOnFail: true };
}

export class Sender {
  blockSize = firstBlock;
  #itemMs: number | undefined;
  #block: Item[] = [];
  #bytes = 0;
  #timeout: number | null = null;
  #jobs: NewJob[] = [];
  #scheduled = false;
  #seq = 0;

  constructor(
    readonly queue: Queue,
    readonly runId: string,
    readonly inflight: InFlight,
    // jobs whose addBulk failed: the producer treats them as gone
    readonly onLost: (jobIds: string[]) => void,
  ) {}

  add(item: Item): void {
    if (this.#block.length > 0 && item.timeout !== this.#timeout) this.#cut();
    this.#timeout = item.timeout;
    this.#block.push(item);
    this.#bytes += item.json.length;
    if (this.#block.length >= this.blockSize || this.#bytes >= maxBytes) this.#cut();
    this.#schedule();
  }

  /** A job of its own, without a timeout (a block of input lines, blocks.ts): its id */
  addJob(numbers: { first: number; line?: number } | { ids: number[] }, items: string): string {
    const jobId = `${this.runId}-${++this.#seq}`;
    this.#jobs.push({ name: 'items', data: { run: this.runId, ...numbers, items, timeout: null }, opts: { jobId, removeOnComplete: true, removeOnFail: true } });
    this.#schedule();
    return jobId;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  /** The workers' measure of one item's time on a child: sets the block size */
  measured(itemMs: number): void {
    this.#itemMs = this.#itemMs === undefined ? itemMs : 0.7 * this.#itemMs + 0.3 * itemMs;
    this.blockSize = Math.max(1, Math.min(maxItems, Math.round(targetMs / Math.max(this.#itemMs, 1e-3))));
  }

  #cut(): void {
    const block = this.#block;
    if (block.length === 0) return;
    this.#block = [];
    this.#bytes = 0;
    const jobId = `${this.runId}-${++this.#seq}`;
    this.inflight.carry(jobId, block);
    const now = performance.now();
    let items = '';
    const first = block[0]!.id;
    let inOrder = true;
    for (let i = 0; i < block.length; i++) {
      const item = block[i]!;
      item.sentAt = now;
      items += i === 0 ? item.json : `\n${item.json}`;
      if (item.id !== first + i) inOrder = false;
    }
    // numbers that follow one another go as the first (a thousand numbers are a sixth of a job)
    const numbers = inOrder ? { first } : { ids: block.map((item) => item.id) };
    this.#jobs.push({ name: 'items', data: { run: this.runId, ...numbers, items, timeout: this.#timeout }, opts: { jobId, removeOnComplete: true, removeOnFail: true } });
  }

  #flush(): void {
    this.#scheduled = false;
    this.#cut();
    const jobs = this.#jobs;
    if (jobs.length === 0) return;
    this.#jobs = [];
    this.queue.addBulk(jobs).catch(() => this.onLost(jobs.map((job) => job.opts.jobId)));
  }
}
