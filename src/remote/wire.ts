// What travels through Redis: a job is a block of items as JSON lines with their numbers, and
// a results entry is a block of lines `<number>[+<reruns>] <exit>[r] <rest>` (rest: the result's
// JSON after its exit, as the child wrote it), so neither side re-encodes an item or a result.
// A job of input lines that follow one another (`line` set: `polytask run --redis`) may come
// back whole instead: the output lines its children wrote, as `polytask run` writes them, which
// the producer passes on without looking into them (wholeHead, forEachWhole).
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
  /**
   * with `first`: the input line number of the first item, when the items are input lines that
   * follow one another (a block of `polytask run --redis`); their output lines may come back whole
   */
  line?: number;
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

/**
 * The head of a run of whole output lines in a results entry's `w` field: the item number of
 * the first, how many lines (numbers following one another), how many failed, how many of those
 * are a returned integer, and their length in bytes; the lines follow it
 */
export function wholeHead(first: number, count: number, failed: number, returned: number, bytes: number): string {
  return `${first} ${count} ${failed} ${returned} ${bytes}\n`;
}

/** A run of whole output lines read from a results entry (WholeLines.bytes[start, end)) */
export interface WholeLines {
  first: number;
  count: number;
  failed: number;
  returned: number;
  bytes: Buffer;
  start: number;
  end: number;
}

/**
 * Calls `each` with every run of whole output lines in `bytes` (heads and lines, wholeHead), read
 * in place; false when the bytes are not such runs (what came before is handed over already)
 */
export function forEachWhole(bytes: Buffer, each: (lines: WholeLines) => void): boolean {
  const lines: WholeLines = { first: 0, count: 0, failed: 0, returned: 0, bytes, start: 0, end: 0 };
  const numbers = [0, 0, 0, 0, 0];
  for (let at = 0; at < bytes.length; ) {
    for (let k = 0; k < numbers.length; k++) {
      let n = 0;
      const from = at;
      for (; isDigit(bytes[at]); at++) n = n * 10 + bytes[at]! - digit0;
      if (at === from || bytes[at] !== (k === numbers.length - 1 ? 0x0a : 0x20)) return false;
      numbers[k] = n;
      at++;
    }
    [lines.first, lines.count, lines.failed, lines.returned] = numbers as [number, number, number, number];
    lines.start = at;
    lines.end = at + numbers[4]!;
    if (lines.end > bytes.length || lines.count === 0) return false;
    each(lines);
    at = lines.end;
  }
  return true;
}

/** Where the fields of an output line are (outputFields) */
export interface OutputFields {
  // the line number as written
  line: number;
  // bytes[exitAt, exitEnd): the exit's digits
  exitAt: number;
  exitEnd: number;
  attempts: number;
  // where the fields after `attempts` start (after its comma), or the closing brace when none follow
  restAt: number;
}

// an output line: {"line":<number>,"data":<the item's text>,"exit":<exit>,"attempts":<n>,<rest>
const lineKey = '{"line":'.length;
const dataKey = ',"data":'.length;
const exitKey = ',"exit":'.length;
const attemptsKey = ',"attempts":'.length;
const comma = 0x2c;

/**
 * The fields of the output line bytes[at, end) (without its newline), found without decoding
 * anything: `line` is read first, and `dataLength(line)` gives the length in bytes of that
 * line's item text, which places the exit after the text whatever the text holds
 */
export function outputFields(bytes: Buffer, at: number, end: number, dataLength: (line: number) => number): OutputFields {
  let p = at + lineKey;
  let line = 0;
  for (; p < end && bytes[p] !== comma; p++) line = line * 10 + bytes[p]! - digit0;
  const exitAt = p + dataKey + dataLength(line) + exitKey;
  let exitEnd = exitAt;
  while (exitEnd < end && bytes[exitEnd] !== comma) exitEnd++;
  let q = exitEnd + attemptsKey;
  let attempts = 0;
  for (; q < end - 1 && bytes[q] !== comma; q++) attempts = attempts * 10 + bytes[q]! - digit0;
  return { line, exitAt, exitEnd, attempts, restAt: bytes[q] === comma ? q + 1 : end - 1 };
}

const valueKey = Buffer.from('"value":');

/**
 * Whether the fields of an output line from bytes[restAt] (OutputFields.restAt) on, up to `end`,
 * start with its value: with a non-zero exit, the handler's returned integer (a failure has an
 * error instead)
 */
export function startsWithValue(bytes: Buffer, restAt: number, end: number): boolean {
  return restAt + valueKey.length <= end && bytes.compare(valueKey, 0, valueKey.length, restAt, restAt + valueKey.length) === 0;
}
