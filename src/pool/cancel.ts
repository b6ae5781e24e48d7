// A call's cancellation, however its caller gives it (RunOptions.onAbort or .signal), and its
// timeout timer: written once for every executor.
import type { RunOptions } from './executor.js';

// Whether the call was cancelled before it was submitted (with onAbort, the signal is left
// alone: a Future makes it only when asked for it)
export function abortedAlready(options: RunOptions): boolean {
  return options.onAbort === undefined && options.signal?.aborted === true;
}

// Calls `listener` when the call is cancelled (at once when it was already); returns the
// unsubscribe, or undefined when nothing can cancel the call
export function onCancel(options: RunOptions, listener: () => void): (() => void) | undefined {
  if (options.onAbort !== undefined) return options.onAbort(listener);
  const signal = options.signal;
  if (signal === undefined) return undefined;
  if (signal.aborted) {
    listener();
    return undefined;
  }
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

// What a cancelled call rejects with: the signal's reason, as Node does
export function cancelReason(options: RunOptions, fallback: () => Error): unknown {
  return options.signal?.reason ?? fallback();
}
