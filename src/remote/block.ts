// One block of the producer's input lines (`polytask run --redis` when nothing is done for an
// item on its own: cli/run-remote.ts), a job: its lines joined as they were read, their
// numbers, and which are answered, a few bytes a line. An item of its own (inflight.ts) costs
// some 500 bytes of objects that live as long as it is in flight, long enough for V8 to copy
// them into its old generation: a fifth of the producer's time went to collecting them. The
// blocks in flight are blocks.ts'.
import type { RawResult } from '../pool/items.js';
import type { RestBytes } from './wire.js';

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

/** One line of a block */
export interface BlockLine {
  block: Block;
  index: number;
}
