// How a worker (worker.ts) runs a job's items on its local lane: a call for each item, or, for
// trivial items with numbers that follow one another on children that write their own output
// lines (protocol version 3), as one `lines` block. A call per item cost the worker a third of
// its time in collecting the objects of the calls in flight; a block costs it a few byte
// copies per item: each output line names its item, and the item's text in it is as long as
// the job's line in bytes, which finds the exit and the fields after it without decoding anything.
import type { RawOptions, RawResult, RawResultCallback } from '../pool/items.js';
import { newCall, type Call, type LinesChunk, type LinesOwner } from '../pool/process/call.js';
import type { PoolStats } from '../pool/process/stats.js';
import { ProcessPool } from '../pool/process/pool.js';
import { exitCodes } from '../protocol/exit-codes.js';
import { itemId, outputFields, resultLine, startsWithValue, wholeHead, type JobData } from './wire.js';

// Where a worker runs items: a spec's pool of children, or worker threads for JavaScript
export interface Lane {
  readonly processes: number;
  start(): Promise<void>;
  submitRaw(json: string, done: RawResultCallback, options?: RawOptions): void;
  // a line that is not JSON fails only its own item (else the worker checks each line first)
  readonly decodesEachItem: boolean;
  stats(): PoolStats;
  readyInfo(): string;
  close(): Promise<void>;
}

/** Hears results lines (wire.ts): one, or `count` of them joined by '\n' as bytes; `failed`: how many failed */
export type RecordResult = (lines: string | Buffer, count: number, failed: number) => void;

/**
 * Hears whole output lines (wire.ts, wholeHead): a head, then the lines as the children wrote
 * them; `count` lines, `failed` of them failed
 */
export type RecordWhole = (pieces: readonly (string | Buffer)[], count: number, failed: number) => void;

const newlineByte = Buffer.from('\n');

/** Results lines heard, joined by '\n': as text when each came as text, else as bytes */
export function joinResults(pieces: readonly (string | Buffer)[]): string | Buffer {
  if (pieces.every((piece) => typeof piece === 'string')) return pieces.join('\n');
  if (pieces.length === 1) return pieces[0]!;
  return Buffer.concat(pieces.flatMap((piece, i) => {
    const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
    return i === 0 ? [bytes] : [newlineByte, bytes];
  }));
}

// items at most this long each (ms on a child, as the worker measured its last jobs) go as a
// block: a block cannot be cancelled, and a run that is gone must free the worker within a second
const blockItemMs = 0.5;

/** Whether the job goes as one `lines` block; `itemMs`: the worker's measure of its items' time */
export function asBlock(lane: Lane, data: JobData, itemMs: number | undefined): lane is ProcessPool {
  return lane instanceof ProcessPool && lane.takesLines && data.first !== undefined && data.timeout === null && itemMs !== undefined && itemMs <= blockItemMs;
}

/** Runs each item as a call of its own; `done` gets the number of items once all are answered */
export function runCalls(lane: Lane, data: JobData, options: RawOptions, record: RecordResult, done: (items: number) => void): void {
  const lines = data.items.split('\n');
  let left = lines.length;
  // producers send input lines unchecked (RemoteExecutor.decodesEachItem): one that is not
  // JSON must fail alone, also on children that take items inside a message (version 1)
  const check = !lane.decodesEachItem;
  for (let i = 0; i < lines.length; i++) {
    const answer = (raw: RawResult) => {
      record(resultLine(itemId(data, i), raw), 1, raw.exit !== 0 ? 1 : 0);
      if (--left === 0) done(lines.length);
    };
    const notJson = check ? notJsonResult(lines[i]!) : undefined;
    if (notJson === undefined) lane.submitRaw(lines[i]!, answer, options);
    else answer(notJson);
  }
}

/**
 * Runs the job's items (numbered from data.first) as one `lines` block; `done` as for runCalls.
 * Lines that follow one another in the input (data.line) come back whole, to `whole`: the
 * children number them with their input line numbers, as `polytask run` would.
 */
export function runBlock(pool: ProcessPool, data: JobData, record: RecordResult, whole: RecordWhole, done: (items: number) => void): void {
  const job = new LinesJob(Buffer.from(`${data.items}\n`), data.first!, data.line, record, whole, done);
  pool.submitLines(job.items, job.line, job.count, job);
}

const newline = 0x0a;

class LinesJob implements LinesOwner {
  // where each item starts in `items` (bytes), and one past the end
  readonly #starts: Int32Array;
  #left: number;
  // the line number its children give the first item: its input line's, or its item number
  readonly line: number;
  readonly #whole: boolean;

  constructor(
    readonly items: Buffer,
    readonly first: number,
    inputLine: number | undefined,
    readonly record: RecordResult,
    readonly recordWhole: RecordWhole,
    readonly done: (items: number) => void,
  ) {
    this.line = inputLine ?? first;
    this.#whole = inputLine !== undefined;
    const starts = [0];
    for (let at = items.indexOf(newline); at !== -1; at = items.indexOf(newline, at + 1)) starts.push(at + 1);
    this.#starts = Int32Array.from(starts);
    this.#left = this.count;
  }

  get count(): number {
    return this.#starts.length - 1;
  }

  // The output lines go as they are when they are whole input lines' and every line answered has
  // one; else each becomes a results line, byte for byte: the item's number, its exit as the
  // child wrote it, its runs after the first, the fields after `attempts`. The item's text in it
  // is as long as the job's line: that finds the exit without decoding anything.
  answered(block: Call, chunk: LinesChunk): void {
    if (this.#whole && chunk.bad.length === 0 && chunk.outLines === chunk.count) {
      // the chunk's lines follow those of the block answered before it (counted already)
      const { line, answered } = block.lines!;
      const bytes = chunk.out.reduce((sum, piece) => sum + piece.length, 0);
      this.recordWhole([wholeHead(this.first + line + answered - chunk.count - this.line, chunk.count, chunk.failed, chunk.returned, bytes), ...chunk.out], chunk.count, chunk.failed);
      this.#settled(chunk.count);
      return;
    }
    const out = chunk.out.length === 1 ? chunk.out[0]! : Buffer.concat(chunk.out);
    // a results line is shorter than its output line: the output line's keys alone are 36
    // bytes, more than an item number's digits and the few bytes a results line adds
    const results = Buffer.allocUnsafe(out.length);
    let o = 0;
    let lines = 0;
    let failed = 0;
    for (let at = 0; at < out.length; ) {
      // (each output line ends with '\n'; the end of the bytes all the same if one did not)
      let end = out.indexOf(newline, at);
      if (end === -1) end = out.length;
      if (lines > 0) results[o++] = newline;
      const { line, exitAt, exitEnd, attempts, restAt } = outputFields(out, at, end, (line) => {
        const index = line - this.line;
        return this.#starts[index + 1]! - this.#starts[index]! - 1;
      });
      // the item's number
      o += results.write(String(this.first + line - this.line), o, 'latin1');
      const ok = exitEnd - exitAt === 1 && out[exitAt] === 0x30;
      const fromReturn = !ok && startsWithValue(out, restAt, end);
      if (attempts > 1) o += results.write(`+${attempts - 1}`, o, 'latin1');
      results[o++] = 0x20;
      for (let k = exitAt; k < exitEnd; k++) results[o++] = out[k]!;
      if (fromReturn) results[o++] = 0x72;
      results[o++] = 0x20;
      o += out.copy(results, o, restAt, end);
      lines++;
      if (!ok) failed++;
      at = end + 1;
    }
    if (lines > 0) this.record(results.subarray(0, o), lines, failed);
    // a line its child could not decode: the producer words its ParseError, as for a line it checks
    for (const place of chunk.bad) this.record(resultLine(this.first + block.lines!.line + place - this.line, notDecoded), 1, 1);
    this.#settled(chunk.count);
  }

  // A child died: the block's lines from `from` on go again as calls of one item each
  split(block: Call, from: number): Call[] {
    const calls: Call[] = [];
    for (let place = from; place < block.lines!.count; place++) {
      const index = block.lines!.line + place - this.line;
      const id = this.first + index;
      const call = newCall(block.id + place, this.items.toString('utf8', this.#starts[index], this.#starts[index + 1]! - 1), undefined, (raw) => {
        this.record(resultLine(id, raw), 1, raw.exit !== 0 ? 1 : 0);
        this.#settled(1);
      }, undefined, undefined);
      call.attempt = block.attempt;
      calls.push(call);
    }
    return calls;
  }

  #settled(count: number): void {
    this.#left -= count;
    if (this.#left === 0) this.done(this.count);
  }
}

const notDecoded: RawResult = {
  exit: exitCodes.dataError,
  rest: JSON.stringify({ error: { name: 'ParseError', message: 'its child could not decode the item' }, stdout: '', stderr: '' }).slice(1),
  attempts: 1,
};

// The result of an item line that is not JSON (exit 65, a ParseError, as from a child that
// decodes each item), or undefined for a line that is
function notJsonResult(line: string): RawResult | undefined {
  try {
    JSON.parse(line);
    return undefined;
  } catch (error) {
    const message = `the item is not valid JSON: ${(error as Error).message}`;
    return { exit: exitCodes.dataError, rest: JSON.stringify({ error: { name: 'ParseError', message }, stdout: '', stderr: `ParseError: ${message}\n` }).slice(1), attempts: 1 };
  }
}
