// The runtimes of a job spec (the cross-language pool here, later one across machines): an
// Executor of items whose value is the item's result, with the raw lane the CLI uses.
import { errorInfo, type ErrorInfo } from '../errors.js';
import { exitCodes } from '../protocol/exit-codes.js';
import type { Executor, RunOptions } from './executor.js';
import type { PoolStats } from './process/stats.js';

/** What one item gave */
export interface ItemResult {
  /** 0 for success; the failure's status otherwise (124 timeout, 130 cancelled, ...) */
  exit: number;
  /** What the handler returned */
  value?: unknown;
  /** The failure: the handler's exception (name, message, stack) or the pool's */
  error?: ErrorInfo;
  /** What the handler printed while running the item */
  stdout: string;
  stderr: string;
  /** The item timed out */
  timedOut?: boolean;
  /** The item was cancelled (or its pool closed) before it was answered */
  cancelled?: boolean;
  /** How many times the item was sent to a child (1 unless it ran again after a failure) */
  attempts?: number;
}

export type ResultCallback = (result: ItemResult) => void;

// A result as the child wrote it: the exit status, and the other fields as the JSON text that
// follows it (`"value":1,"stdout":"","stderr":""}`). The CLI copies it out without re-encoding.
export interface RawResult {
  exit: number;
  rest: string;
  // set by the pool when it answers the call
  attempts: number;
  // true when `exit` is the integer the handler returned (the exit_from_return rule), not a failure it raised
  fromReturn?: boolean;
}

export type RawResultCallback = (result: RawResult) => void;

/** A raw item's own timeout, its cancel source and start callback (see RunOptions) */
export type RawOptions = Pick<RunOptions, 'timeout' | 'onAbort' | 'onStart'>;

/** An Executor of job-spec items: what JobRunner and `polytask run` run on */
export interface ItemExecutor extends Executor<unknown, ItemResult> {
  /** Items submitted and not yet answered */
  readonly size: number;
  /**
   * Queues an item already encoded as JSON text; `done` gets the result as the child wrote it,
   * a failure too (see RawResult): the CLI copies input and result text without re-encoding
   */
  submitRaw(json: string, done: RawResultCallback, options?: RawOptions): void;
  /**
   * Whether submitRaw() may be given text not checked to be JSON: a text that is not JSON then
   * fails only its own item, with exit 65 and a ParseError. Known once started.
   */
  readonly decodesEachItem: boolean;
  /** Counts so far, item latency, and each worker's items, restarts, CPU time and peak memory */
  stats(): PoolStats;
  /** Process ids of the children running on this machine */
  pids(): number[];
  /** e.g. 'python 3.11.7, 2 children ready' once started */
  readyInfo(): string;
  /** Runs one item and resolves with its result, a failure's too: never rejects for an item */
  result(item: unknown, options?: RunOptions): Promise<ItemResult>;
}

/** An item's JSON text, or the failure of one that cannot be sent as JSON */
export function jsonOf(item: unknown): string | ItemResult {
  let problem: string;
  try {
    const json = JSON.stringify(item);
    if (json !== undefined) return json;
    problem = `got ${typeof item}`;
  } catch (error) {
    problem = errorInfo(error).message;
  }
  return { exit: exitCodes.dataError, error: { name: 'SerializationError', message: `the item cannot be sent as JSON: ${problem}` }, stdout: '', stderr: '' };
}

/** The result an item's error carries (every failure of an item has one), or one made for it */
export function resultOf(error: unknown): ItemResult {
  const result = (error as { result?: ItemResult } | undefined)?.result;
  if (result !== undefined) return result;
  const { name = 'Error', message = String(error) } = error instanceof Error ? error : {};
  // a cancelled item: its error is the signal's reason
  return { exit: exitCodes.interrupted, error: { name, message }, stdout: '', stderr: '', cancelled: true };
}
