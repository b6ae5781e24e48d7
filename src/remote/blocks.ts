// The producer's blocks of input lines in flight (block.ts), a job each: sent, sent again when
// their job is gone without all their results, answered. Each line is answered once: a
// duplicate (a job run again after a stall) finds it answered.
import type { ItemResult } from '../pool/items.js';
import type { Block, BlockLine, BlockOwner } from './block.js';
import { asSent, lostResult } from './inflight.js';
import { timing } from './keys.js';
import type { RemoteStats } from './stats.js';
import { forEachWhole, outputFields, startsWithValue, type RestBytes, type WholeLines } from './wire.js';

interface BlockJob {
  readonly block: Block;
  // the places of its lines in the block: all of them, or those sent again
  readonly indices: readonly number[] | undefined;
  // Date.now() when the producer first saw it gone from the queue (as JobRecord.goneAt)
  goneAt: number | undefined;
}

export class BlockFlight {
  // in the order of their numbers; those before #head are answered
  #blocks: Block[] = [];
  #head = 0;
  readonly jobs = new Map<string, BlockJob>();
  /** Lines not answered */
  size = 0;
  readonly #touched = new Set<BlockOwner>();

  /** `addJob`: sends a job (Sender.addJob) */
  constructor(
    readonly stats: RemoteStats,
    readonly addJob: (numbers: { first: number; line?: number } | { ids: number[] }, items: string) => string,
  ) {}

  add(block: Block): void {
    this.#blocks.push(block);
    this.size += block.count;
  }

  /** Sends the block's lines at `indices` (all of them when undefined) in a job */
  send(block: Block, indices?: readonly number[]): void {
    const line = block.firstLine;
    const numbers = indices !== undefined ? { ids: indices.map((index) => block.first + index) } : line === undefined ? { first: block.first } : { first: block.first, line };
    const items = indices === undefined ? block.text : indices.map((index) => block.lineText(index)).join('\n');
    block.sentAt = performance.now();
    this.jobs.set(this.addJob(numbers, items), { block, indices, goneAt: undefined });
  }

  /**
   * Lines lost with their worker (lost() below) go again, a job per block, as one more attempt;
   * one lost more than timing.lostLimit times fails
   */
  sendAgain(lines: readonly BlockLine[]): void {
    const again = new Map<Block, number[]>();
    for (const { block, index } of lines) {
      this.stats.lost++;
      const times = block.lost(index);
      if (times > timing.lostLimit) {
        this.answerAll([{ block, index }], lostResult(times));
        continue;
      }
      const indices = again.get(block);
      if (indices === undefined) again.set(block, [index]);
      else indices.push(index);
    }
    for (const [block, indices] of again) this.send(block, indices);
  }

  /** Answers lines with a result made here (a failure, a cancellation) */
  answerAll(lines: readonly BlockLine[], result: ItemResult): void {
    const { exit, rest } = asSent(result);
    for (const { block, index } of lines) this.answer(block.first + index, exit, rest, false, 0, false);
    this.settle();
  }

  /**
   * Answers the item `id` once: undefined when it is no block's, else whether it was answered now.
   * `reruns`: the worker's runs of it after the first; `byWorker`: the result came from a worker
   * (its time counts in the stats).
   */
  answer(id: number, exit: number, rest: string | RestBytes, fromReturn: boolean, reruns: number, byWorker = true): boolean | undefined {
    const block = this.#find(id);
    if (block === undefined) return undefined;
    if (!block.answer(id - block.first, exit, rest, fromReturn, reruns)) return false;
    this.size--;
    this.stats.answered(exit, typeof rest === 'string' ? rest : '', byWorker ? performance.now() - block.sentAt : undefined);
    this.#touched.add(block.owner);
    if (block.left === 0) this.#dropAnswered();
    return true;
  }

  /**
   * Answers the runs of whole output lines of a results entry (wire.ts, forEachWhole: from
   * blocks sent whole with their input line numbers); bytes that are not such runs answer
   * nothing, and their lines go again once their job is gone (lost)
   */
  answerWhole(bytes: Buffer): void {
    forEachWhole(bytes, (run) => this.#answerRun(run));
  }

  // A run of whole output lines: at once when none of its lines is answered yet, else line by
  // line, each once
  #answerRun({ first, count, failed, returned, bytes, start, end }: WholeLines): void {
    const block = this.#find(first);
    // no block holds them: answered in full already (duplicates)
    if (block === undefined || first - block.first + count > block.count) return;
    if (block.answerLines(first - block.first, count, bytes.subarray(start, end), failed, returned)) {
      this.size -= count;
      this.stats.answeredMany(count, failed, performance.now() - block.sentAt);
      this.#touched.add(block.owner);
      if (block.left === 0) this.#dropAnswered();
      return;
    }
    let at = start;
    for (let index = first - block.first; index < first - block.first + count && at < end; index++) {
      let lineEnd = bytes.indexOf(0x0a, at);
      if (lineEnd === -1 || lineEnd > end) lineEnd = end;
      if (!block.isAnswered(index)) {
        const text = block.lineText(index);
        const { exitAt, exitEnd, attempts, restAt } = outputFields(bytes, at, lineEnd, () => Buffer.byteLength(text));
        const exit = Number(bytes.toString('latin1', exitAt, exitEnd));
        const fromReturn = exit !== 0 && startsWithValue(bytes, restAt, lineEnd);
        const rest = exit === 0 ? { bytes, start: restAt, end: lineEnd } : bytes.toString('utf8', restAt, lineEnd);
        this.answer(block.first + index, exit, rest, fromReturn, Math.max(0, attempts - 1));
      }
      at = lineEnd + 1;
    }
  }

  /** Tells the owners of the lines answered since the last call */
  settle(): void {
    for (const owner of this.#touched) owner.settled();
    this.#touched.clear();
  }

  /** Jobs seen gone from the queue (or never added): the time is kept from the first sighting */
  markGone(jobIds: readonly string[]): void {
    const now = Date.now();
    for (const id of jobIds) {
      const job = this.jobs.get(id);
      if (job !== undefined) job.goneAt ??= now;
    }
  }

  /** Forgets the jobs whose lines are all answered */
  sweep(): void {
    for (const [id, { block, indices }] of this.jobs) {
      if (block.left === 0 || (indices !== undefined && indices.every((index) => block.isAnswered(index)))) this.jobs.delete(id);
    }
  }

  /**
   * The lines of jobs gone without all their results, once every result written before they
   * were seen gone has been read (`caughtUpTo`, as InFlight.lost); those jobs are forgotten
   */
  lost(gone: readonly string[], caughtUpTo: number): BlockLine[] {
    this.markGone(gone);
    return gone.flatMap((id) => {
      const job = this.jobs.get(id);
      if (job === undefined || job.goneAt === undefined || job.goneAt >= caughtUpTo) return [];
      this.jobs.delete(id);
      return unanswered(job).map((index) => ({ block: job.block, index }));
    });
  }

  /** Every line not answered */
  unanswered(): BlockLine[] {
    return this.#blocks.slice(this.#head).flatMap((block) => unanswered({ block, indices: undefined, goneAt: undefined }).map((index) => ({ block, index })));
  }

  // The block holding the item `id`: blocks are added in the order of their numbers
  #find(id: number): Block | undefined {
    const blocks = this.#blocks;
    let low = this.#head;
    let high = blocks.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const block = blocks[middle]!;
      if (id < block.first) high = middle - 1;
      else if (id >= block.first + block.count) low = middle + 1;
      else return block;
    }
    return undefined;
  }

  // Answered blocks at the front go (a duplicate result for them then finds no block: dropped)
  #dropAnswered(): void {
    while (this.#head < this.#blocks.length && this.#blocks[this.#head]!.left === 0) this.#head++;
    if (this.#head > 64 && this.#head * 2 > this.#blocks.length) {
      this.#blocks = this.#blocks.slice(this.#head);
      this.#head = 0;
    }
  }
}


function unanswered(job: BlockJob): number[] {
  const { block } = job;
  if (block.left === 0) return [];
  const indices = job.indices ?? Array.from({ length: block.count }, (_, i) => i);
  return indices.filter((index) => !block.isAnswered(index));
}
