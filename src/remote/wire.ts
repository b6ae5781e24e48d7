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

/** The fields after a result's exit, as read: bytes[start, end) */
export interface RestBytes {
  bytes: Buffer;
  start: number;
  end: number;
}

/** A results line read */
export interface ResultFields {
  id: number;
  exit: number;
  fromReturn: boolean;
  /** the runs of the item on the worker after its first (attempts counts them as the producer's sends) */
  reruns: number;
  rest: RestBytes;
}

const digit0 = 0x30;
const isDigit = (byte: number | undefined) => byte !== undefined && byte >= digit0 && byte <= digit0 + 9;

/**
 * Calls `each` with every results line of `bytes` (lines joined by '\n'), read in place: one
 * object, filled again for each line, and no string (the fields after the exit are the bytes'
 * positions; most are only copied to the output)
 */
export function forEachResult(bytes: Buffer, each: (fields: ResultFields) => void): void {
  const fields: ResultFields = { id: 0, exit: 0, fromReturn: false, reruns: 0, rest: { bytes, start: 0, end: 0 } };
  for (let at = 0; at < bytes.length; ) {
    let end = bytes.indexOf(0x0a, at);
    if (end === -1) end = bytes.length;
    let p = at;
    let id = 0;
    for (; isDigit(bytes[p]); p++) id = id * 10 + bytes[p]! - digit0;
    let reruns = 0;
    if (bytes[p] === 0x2b) for (p++; isDigit(bytes[p]); p++) reruns = reruns * 10 + bytes[p]! - digit0;
    p++;
    const sign = bytes[p] === 0x2d ? -1 : 1;
    if (sign === -1) p++;
    let exit = 0;
    for (; isDigit(bytes[p]); p++) exit = exit * 10 + bytes[p]! - digit0;
    fields.fromReturn = bytes[p] === 0x72;
    if (fields.fromReturn) p++;
    fields.id = id;
    fields.exit = sign * exit;
    fields.reruns = reruns;
    fields.rest.start = p + 1;
    fields.rest.end = end;
    each(fields);
    at = end + 1;
  }
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
