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
}

// Every field set from the start: calls then share one object shape
export function newCall(id: number, json: string, done: ResultCallback | undefined, rawDone: RawResultCallback | undefined, onStart: (() => void) | undefined, timeout: number | undefined): Call {
  return { id, json, attempt: 1, done, rawDone, onStart, suspect: false, retried: 0, sentAt: 0, timeout };
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
