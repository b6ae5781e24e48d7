// move(): hand a buffer to a worker thread (or back) instead of copying it, as piscina's
// Piscina.move() and postMessage's transfer list do. The caller's buffer is then detached
// (byteLength 0). A moved value is a marker, unwrapped where it crosses: only a call's own
// arguments and its return value are looked at, not what they contain.
import { MessagePort } from 'node:worker_threads';

// Symbol.for: a marker made by another copy of polytask (a worker's) is recognised too
const moved = Symbol.for('polytask.move');

export type Movable = ArrayBuffer | ArrayBufferView | MessagePort;

interface Moved {
  readonly [moved]: true;
  readonly value: Movable;
  readonly transfer: ArrayBuffer | MessagePort;
  // sent once: its buffer is detached, so it cannot go again (a retry, a run again)
  sent: boolean;
}

/**
 * Moves `value` to the worker thread of the call it is an argument of (or, returned by a task
 * function, back to the caller) instead of copying it: the sender's buffer is detached
 * (byteLength 0) once sent. An ArrayBuffer, a typed array or DataView (its whole buffer moves),
 * or a MessagePort. On a child process (`runtime: 'process'`) it is copied as any argument.
 * Typed as its value, so that a task's argument and result types stay as written.
 */
export function move<T extends Movable>(value: T): T {
  const transfer = ArrayBuffer.isView(value) ? value.buffer : value;
  if (!(transfer instanceof ArrayBuffer) && !(transfer instanceof MessagePort)) {
    throw new TypeError(`move() takes an ArrayBuffer, a typed array, a DataView or a MessagePort; got ${describe(value)}`);
  }
  const marker: Moved = { [moved]: true, value, transfer: transfer as ArrayBuffer | MessagePort, sent: false };
  return marker as unknown as T;
}

export function isMoved(value: unknown): value is Moved {
  return typeof value === 'object' && value !== null && (value as Partial<Moved>)[moved] === true;
}

/**
 * A call's arguments with their move() markers replaced by their values, and what to transfer;
 * undefined when there is no marker (the common case: nothing is allocated); a TypeError for a
 * marker sent already (its buffer is detached). Not `transferring` (a copy goes), the markers
 * can be sent again.
 */
export function unwrapArgs(args: unknown[], transferring = true): { args: unknown[]; transfer: Transfer[] } | TypeError | undefined {
  if (!args.some(isMoved)) return undefined;
  if (!transferring) return { args: args.map((arg) => (isMoved(arg) ? arg.value : arg)), transfer: [] };
  const again = args.findIndex((arg) => isMoved(arg) && arg.sent);
  if (again !== -1) return new TypeError(`argument ${again + 1} was moved to a worker already: its buffer is detached and cannot be sent again (a call with moved arguments is not retried or run again)`);
  const transfer: Transfer[] = [];
  const plain = args.map((arg) => {
    if (!isMoved(arg)) return arg;
    arg.sent = true;
    if (!transfer.includes(arg.transfer)) transfer.push(arg.transfer);
    return arg.value;
  });
  return { args: plain, transfer };
}

function describe(value: unknown): string {
  return typeof value === 'object' && value !== null ? `an instance of ${value.constructor?.name ?? 'Object'}` : `a ${typeof value}`;
}

type Transfer = ArrayBuffer | MessagePort;

/** Marks what an outcome's message transfers, off the message (not enumerable: not cloned) */
export function withTransfer<O extends object>(outcome: O, transfer: Transfer[]): O {
  if (transfer.length > 0) Object.defineProperty(outcome, 'transfer', { value: transfer });
  return outcome;
}

export function transferOf(outcome: object): Transfer[] {
  return (outcome as { transfer?: Transfer[] }).transfer ?? [];
}
