// One call of the process pool and the ways it is answered: a result made by a child
// (copied raw, or parsed), or one made by the pool (a failure, a timeout, a cancellation).
import type { ErrorInfo } from '../../errors.js';
import type { ItemResult, RawResult, RawResultCallback, ResultCallback } from '../items.js';

export type { ItemResult, RawResult, RawResultCallback, ResultCallback } from '../items.js';

export interface Call {
  id: number;
  json: string;
  attempt: number;
  // exactly one of the two is set
  done: ResultCallback | undefined;
  rawDone: RawResultCallback | undefined;
  // called when the call is sent to a child
  onStart: (() => void) | undefined;
  // was in flight on a concurrent child that died without naming the culprit: runs alone next
  suspect: boolean;
  // retries used up by failures of this item's own
  retried: number;
  // performance.now() when it was sent to a child
  sentAt: number;
  // ms it may run once it is the oldest in flight on its child (the pool's timeout, or its own)
  timeout: number | undefined;
  // set for a `lines` block (version 3), whose lines' ids are `id`, `id + 1`, ... (`json` is '')
  lines: LinesBlock | undefined;
}

// A block of input lines that a version 3 child answers with output lines it writes itself
export interface LinesBlock {
  // its lines as read, each ending with '\n'
  bytes: Buffer;
  // the number of its first line in the input
  line: number;
  // its lines (blank ones too)
  count: number;
  // how many of its lines are answered (always the first ones)
  answered: number;
  readonly owner: LinesOwner;
}

// What the block's submitter does with its answers
export interface LinesOwner {
  // the next `chunk.count` lines of `block` are answered (block.lines.answered counts them already)
  answered(block: Call, chunk: LinesChunk): void;
  // the lines of `block` from `from` on as calls of one item each (none for a blank line), to
  // be run again or answered by the pool; their ids are block.id + their place in the block
  split(block: Call, from: number): Call[];
}

export interface LinesChunk {
  // how many more lines of the block are answered (they follow those answered before)
  count: number;
  // the output lines the child sent for them, each ending with '\n' (in the pieces they were
  // read in), and how many output lines they have, with those the child wrote to the results itself
  out: Buffer[];
  outLines: number;
  failed: number;
  returned: number;
  // places in the block of lines that are not JSON (no output line from the child)
  bad: readonly number[];
}

// Every field set from the start: calls then share one object shape
export function newCall(id: number, json: string, done: ResultCallback | undefined, rawDone: RawResultCallback | undefined, onStart: (() => void) | undefined, timeout: number | undefined): Call {
  return { id, json, attempt: 1, done, rawDone, onStart, suspect: false, retried: 0, sentAt: 0, timeout, lines: undefined };
}

// A `lines` block of `count` lines from line number `line`; `bytes` are the lines, each ending with '\n'
export function newLinesCall(id: number, bytes: Buffer, line: number, count: number, owner: LinesOwner): Call {
  return { id, json: '', attempt: 1, done: undefined, rawDone: undefined, onStart: undefined, suspect: false, retried: 0, sentAt: 0, timeout: undefined, lines: { bytes, line, count, answered: 0, owner } };
}

// The calls a call stands for: itself, or the lines of a `lines` block not answered yet, one call each
export function unanswered(call: Call): Call[] {
  return call.lines === undefined ? [call] : call.lines.owner.split(call, call.lines.answered);
}

// Cuts the first `count` lines off a pending `lines` block, as a block of their own
export function takeLines(block: Call, count: number): Call {
  const lines = block.lines!;
  let end = 0;
  for (let k = 0; k < count; k++) end = lines.bytes.indexOf(0x0a, end) + 1;
  const taken: Call = { ...block, lines: { bytes: lines.bytes.subarray(0, end), line: lines.line, count, answered: 0, owner: lines.owner } };
  block.id += count;
  lines.bytes = lines.bytes.subarray(end);
  lines.line += count;
  lines.count -= count;
  return taken;
}

import { exitCodes } from '../../protocol/exit-codes.js';

export { exitCodes };

// Answers a call with a result made here (a failure, a timeout, a cancellation)
export function settle(call: Call, result: ItemResult): void {
  if (call.done !== undefined) {
    call.done({ ...result, attempts: call.attempt });
    return;
  }
  // attempts is the pool's own field of a raw result, not one of the child's (a retried item
  // error comes back here with the one of its last run)
  const { exit, attempts: _attempts, ...rest } = result;
  call.rawDone!({ exit, rest: JSON.stringify(rest).slice(1), attempts: call.attempt });
}

export function parseRaw(raw: RawResult): ItemResult {
  const fields = JSON.parse(`{${raw.rest}`) as Omit<ItemResult, 'exit'>;
  return { exit: raw.exit, ...fields, stdout: fields.stdout ?? '', stderr: fields.stderr ?? '', attempts: raw.attempts };
}

// Whether a child's result is an item error (the handler raised), not just a non-zero exit, nor
// an item its child could not decode (exit 65: it would fail the same way again)
export function isItemError(raw: RawResult): boolean {
  return raw.exit !== 0 && raw.exit !== exitCodes.dataError && (JSON.parse(`{${raw.rest}`) as { error?: unknown }).error !== undefined;
}

// Whether a non-zero exit is the handler's returned integer read as its exit status (the handler
// applies that rule, docs/protocol.md): the result then carries that value and no error
export function returnedStatus(exit: number, rest: string): boolean {
  if (exit === 0) return false;
  try {
    const fields = JSON.parse(`{${rest}`) as { error?: unknown; value?: unknown };
    return fields.error === undefined && fields.value === exit;
  } catch {
    return false;
  }
}

export function failure(exit: number, error: ErrorInfo): ItemResult {
  return { exit, error, stdout: '', stderr: '' };
}

export function cancelled(message: string): ItemResult {
  return { ...failure(exitCodes.interrupted, { name: 'AbortError', message }), cancelled: true };
}
