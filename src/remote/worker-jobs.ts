// How a worker (worker.ts) runs a job's items on its local lane: a call for each item, or, for
// trivial items with numbers that follow one another on children that write their own output
// lines (protocol version 3), as one `lines` block. A call per item cost the worker a third of
// its time in collecting the objects of the calls in flight; a block costs it a few string
// operations per item: each output line names its item, and the item's text in it is as long
// as the job's line, which finds the exit and the fields after it without decoding anything.
import type { RawOptions, RawResult, RawResultCallback } from '../pool/items.js';
import { newCall, type Call, type LinesChunk, type LinesOwner } from '../pool/process/call.js';
import type { PoolStats } from '../pool/process/stats.js';
import { ProcessPool } from '../pool/process/pool.js';
import { exitCodes } from '../protocol/exit-codes.js';
import { itemId, resultLine, type JobData } from './wire.js';

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

/** Hears a results line (wire.ts) and whether its item failed */
export type RecordResult = (line: string, failed: boolean) => void;

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
      record(resultLine(itemId(data, i), raw), raw.exit !== 0);
      if (--left === 0) done(lines.length);
    };
    const notJson = check ? notJsonResult(lines[i]!) : undefined;
    if (notJson === undefined) lane.submitRaw(lines[i]!, answer, options);
    else answer(notJson);
  }
}

/** Runs the job's items (numbered from data.first) as one `lines` block; `done` as for runCalls */
export function runBlock(pool: ProcessPool, data: JobData, record: RecordResult, done: (items: number) => void): void {
  const job = new LinesJob(data.items, data.first!, record, done);
  pool.submitLines(Buffer.from(`${data.items}\n`), data.first!, job.count, job);
}

const newline = '\n';
// an output line: {"line":<number>,"data":<the item's text>,"exit":<exit>,"attempts":<n>,<rest>
const head = '{"line":'.length;
const dataKey = ',"data":'.length;
const exitKey = ',"exit":'.length;
const attemptsKey = ',"attempts":'.length;

class LinesJob implements LinesOwner {
  // where each item starts in `items`, and one past the end
  readonly #starts: number[] = [0];
  #left: number;

  constructor(
    readonly items: string,
    readonly first: number,
    readonly record: RecordResult,
    readonly done: (items: number) => void,
  ) {
    for (let at = items.indexOf(newline); at !== -1; at = items.indexOf(newline, at + 1)) this.#starts.push(at + 1);
    this.#starts.push(items.length + 1);
    this.#left = this.count;
  }

  get count(): number {
    return this.#starts.length - 1;
  }

  answered(block: Call, chunk: LinesChunk): void {
    const text = (chunk.out.length === 1 ? chunk.out[0]! : Buffer.concat(chunk.out)).toString('utf8');
    for (let at = 0; at < text.length; ) {
      const end = text.indexOf(newline, at);
      this.#outputLine(text.slice(at, end));
      at = end + 1;
    }
    // a line its child could not decode: the producer words its ParseError, as for a line it checks
    for (const place of chunk.bad) this.record(resultLine(block.lines!.line + place, notDecoded), true);
    this.#settled(chunk.count);
  }

  // A child died: the block's lines from `from` on go again as calls of one item each
  split(block: Call, from: number): Call[] {
    const calls: Call[] = [];
    for (let place = from; place < block.lines!.count; place++) {
      const id = block.lines!.line + place;
      const index = id - this.first;
      const call = newCall(block.id + place, this.items.slice(this.#starts[index], this.#starts[index + 1]! - 1), undefined, (raw) => {
        this.record(resultLine(id, raw), raw.exit !== 0);
        this.#settled(1);
      }, undefined, undefined);
      call.attempt = block.attempt;
      calls.push(call);
    }
    return calls;
  }

  // The results line of an output line: the item's number, its exit, its attempt (a block run
  // again after its child died is a second) and the fields after it
  #outputLine(line: string): void {
    const numberEnd = line.indexOf(',', head);
    const id = Number(line.slice(head, numberEnd));
    const index = id - this.first;
    const exitAt = numberEnd + dataKey + (this.#starts[index + 1]! - this.#starts[index]! - 1) + exitKey;
    const exitEnd = line.indexOf(',', exitAt);
    const exit = Number(line.slice(exitAt, exitEnd));
    const restAt = line.indexOf(',', exitEnd + 1);
    const attempts = Number(line.slice(exitEnd + attemptsKey, restAt === -1 ? line.length - 1 : restAt));
    const rest = restAt === -1 ? '}' : line.slice(restAt + 1);
    // a non-zero exit with a value is the handler's returned integer (a failure has an error)
    const fromReturn = exit !== 0 && rest.startsWith('"value":');
    this.record(resultLine(id, fromReturn ? { exit, rest, attempts, fromReturn } : { exit, rest, attempts }), exit !== 0);
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
