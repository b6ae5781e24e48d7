// The producer's blocks of input lines (`polytask run --redis` when nothing is done for an item
// on its own: cli/run-remote.ts). A block is one job: its lines joined as they were read, their
// numbers, and which are answered, a few bytes a line. An item of its own (inflight.ts) costs
// some 500 bytes of objects that live as long as it is in flight, long enough for V8 to copy
// them into its old generation: a fifth of the producer's time went to collecting them.
// Each line is answered once: a duplicate (a job run again after a stall) finds it answered.
import type { ItemResult, RawResult } from '../pool/items.js';
import { asSent, lostResult } from './inflight.js';
import { timing } from './keys.js';
import type { RemoteStats } from './stats.js';
import { outputFields, type RestBytes, type WholeLines } from './wire.js';

/** Hears the results of a block's lines, each once */
export interface BlockOwner {
  answered(line: number, text: string, result: RawResult): void;
  /** A result with exit 0 as read from the results stream: its fields after the exit as bytes */
  answeredOk(line: number, text: string, attempts: number, rest: RestBytes): void;
  /** `count` output lines as a worker's children wrote them, `failed` of them failed, `returned` of those a returned integer */
  answeredLines(bytes: Buffer, count: number, failed: number, returned: number): void;
  /** After the results of one read of the results stream */
  settled(): void;
}

/**
 * A block's lines: joined by '\n', where each starts in the text (and, last, one past the end of
 * the last line and its newline), and their input line numbers, or the first one when they
 * follow one another
 */
export interface BlockLines {
  text: string;
  starts: Int32Array;
  lines: Int32Array | number;
}

/** The BlockLines of lines given one by one */
export function joinLines(texts: readonly string[], lines: readonly number[]): BlockLines {
  const starts = new Int32Array(texts.length + 1);
  let at = 0;
  for (let i = 0; i < texts.length; i++) {
    starts[i] = at;
    at += texts[i]!.length + 1;
  }
  starts[texts.length] = at;
  return { text: texts.join('\n'), starts, lines: Int32Array.from(lines) };
}

export class Block {
  #text: string;
  #starts: Int32Array;
  #lines: Int32Array | number;
  #answered: Uint8Array;
  // times each line was sent and lost with its worker, made on the first loss
  #attempts: Uint8Array | undefined;
  #lost: Uint8Array | undefined;
  left: number;
  sentAt = 0;

  /** `first`: the item number of its first line; the next lines have the next numbers */
  constructor(readonly first: number, { text, starts, lines }: BlockLines, readonly owner: BlockOwner) {
    this.#text = text;
    this.#starts = starts;
    this.#lines = lines;
    this.#answered = new Uint8Array(starts.length - 1);
    this.left = this.#answered.length;
  }

  get count(): number {
    return this.#answered.length;
  }

  get text(): string {
    return this.#text;
  }

  /** The input line number of its first line, when its lines follow one another */
  get firstLine(): number | undefined {
    return typeof this.#lines === 'number' && this.left > 0 ? this.#lines : undefined;
  }

  lineText(index: number): string {
    return this.#text.slice(this.#starts[index], this.#starts[index + 1]! - 1);
  }

  isAnswered(index: number): boolean {
    return this.left === 0 || this.#answered[index] === 1;
  }

  /**
   * Answers the line `index` unless it is answered already: whether it was not. `rest` as bytes
   * only with exit 0 (not a returned integer).
   */
  answer(index: number, exit: number, rest: string | RestBytes, fromReturn: boolean, reruns: number): boolean {
    if (this.isAnswered(index)) return false;
    this.#answered[index] = 1;
    this.left--;
    const attempts = (this.#attempts?.[index] ?? 1) + reruns;
    const line = typeof this.#lines === 'number' ? this.#lines + index : this.#lines[index]!;
    if (typeof rest !== 'string') this.owner.answeredOk(line, this.lineText(index), attempts, rest);
    else this.owner.answered(line, this.lineText(index), fromReturn ? { exit, rest, attempts, fromReturn } : { exit, rest, attempts });
    this.#answeredInFull();
    return true;
  }

  /**
   * Answers the lines index..index+count-1 at once with their output lines (`bytes`), when none
   * is answered yet and none was ever lost (their attempts are then the ones the children wrote):
   * whether it did
   */
  answerLines(index: number, count: number, bytes: Buffer, failed: number, returned: number): boolean {
    if (this.#attempts !== undefined || this.left === 0) return false;
    for (let k = index; k < index + count; k++) if (this.#answered[k] === 1) return false;
    this.#answered.fill(1, index, index + count);
    this.left -= count;
    this.owner.answeredLines(bytes, count, failed, returned);
    this.#answeredInFull();
    return true;
  }

  // answered in full: only its numbers are looked at again (by a duplicate result)
  #answeredInFull(): void {
    if (this.left > 0) return;
    this.#text = '';
    this.#starts = new Int32Array(0);
    this.#lines = 0;
  }

  /** Every line of it */
  lines(): BlockLine[] {
    return Array.from({ length: this.count }, (_, index) => ({ block: this, index }));
  }

  /** A line lost with its worker: how many times now (it is sent again as one more attempt) */
  lost(index: number): number {
    (this.#attempts ??= new Uint8Array(this.count).fill(1))[index]! += 1;
    return ((this.#lost ??= new Uint8Array(this.count))[index]! += 1);
  }
}

interface BlockJob {
  readonly block: Block;
  // the places of its lines in the block: all of them, or those sent again
  readonly indices: readonly number[] | undefined;
  // Date.now() when the producer first saw it gone from the queue (as JobRecord.goneAt)
  goneAt: number | undefined;
}

/** One line of a block */
export interface BlockLine {
  block: Block;
  index: number;
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
   * Answers a run of whole output lines (from a block sent whole with its input line numbers):
   * at once when none of them is answered yet, else line by line, each once
   */
  answerWhole({ first, count, failed, returned, bytes, start, end }: WholeLines): void {
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
        // a non-zero exit with a value is the handler's returned integer (a failure has an error)
        const fromReturn = exit !== 0 && bytes.toString('latin1', restAt, restAt + valueKey.length) === valueKey;
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

const valueKey = '"value":';

function unanswered(job: BlockJob): number[] {
  const { block } = job;
  if (block.left === 0) return [];
  const indices = job.indices ?? Array.from({ length: block.count }, (_, i) => i);
  return indices.filter((index) => !block.isAnswered(index));
}
