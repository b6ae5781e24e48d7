// What travels through Redis: a job is a block of items as JSON lines with their numbers, and
// a results entry is a block of lines `<number>[+<reruns>] <exit>[r] <rest>` (rest: the result's
// JSON after its exit, as the child wrote it), so neither side re-encodes an item or a result.
import type { RawResult } from '../pool/items.js';
import type { RetryOn } from '../pool/retry.js';
import { exitCodes } from '../protocol/exit-codes.js';

export interface JobData {
  /** the run it belongs to */
  run: string;
  /** the number of the first line of `items`, when the numbers follow one another (most jobs) */
  first?: number;
  /** otherwise the item numbers, one per line of `items` (items sent again) */
  ids?: number[];
  /** the items, JSON texts joined by '\n' (JSON text has no raw newline) */
  items: string;
  /** ms an item may run, or null */
  timeout: number | null;
}

/** The item number of the line `index` of a job's items */
export function itemId(data: JobData, index: number): number {
  return data.ids === undefined ? data.first! + index : data.ids[index]!;
}

/**
 * One result line; `r` marks an exit that is the handler's returned integer, `+<reruns>` an item
 * the worker ran more than once (its child died under it, or its own retry policy ran it again)
 */
export function resultLine(id: number, raw: RawResult): string {
  return `${id}${raw.attempts > 1 ? `+${raw.attempts - 1}` : ''} ${raw.exit}${raw.fromReturn === true ? 'r' : ''} ${raw.rest}`;
}

export interface ParsedResult {
  id: number;
  exit: number;
  fromReturn: boolean;
  rest: string;
  /** the runs of the item on the worker after its first (attempts counts them as the producer's sends) */
  reruns: number;
}

export function parseResultLine(line: string): ParsedResult {
  const first = line.indexOf(' ');
  const second = line.indexOf(' ', first + 1);
  const exitText = line.slice(first + 1, second);
  const fromReturn = exitText.endsWith('r');
  const plus = line.lastIndexOf('+', first);
  return {
    id: Number(line.slice(0, plus === -1 ? first : plus)),
    exit: Number(fromReturn ? exitText.slice(0, -1) : exitText),
    fromReturn,
    rest: line.slice(second + 1),
    reruns: plus === -1 ? 0 : Number(line.slice(plus + 1, first)),
  };
}

/**
 * Which kind of failure a result is, for the retry policy; undefined when it has no error, or
 * for an item its child could not decode (exit 65: it would fail the same way again)
 */
export function failureKind(exit: number, rest: string): RetryOn | undefined {
  if (exit === exitCodes.dataError) return undefined;
  let name: string | undefined;
  try {
    name = (JSON.parse(`{${rest}`) as { error?: { name?: string } }).error?.name;
  } catch {
    return undefined;
  }
  if (name === undefined) return undefined;
  if (name === 'WorkerExitedError') return 'crash';
  return name === 'TimeoutError' && exit === exitCodes.timeout ? 'timeout' : 'error';
}
