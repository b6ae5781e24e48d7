// SIGINT (Ctrl-C) and SIGTERM while a SynchronousJob runs, as the CLI treats them: the first
// one stops the job (it rejects with an AbortError once every worker has ended), and the
// process then ends with 128 + the signal's number (130, 143) when the program has no handler
// of its own for that signal. A second one while the job stops ends the process at once.
//
// A plain script, `try { await job.runMultiProcessed() } finally { ... }` with no catch, runs
// its `finally`, and the AbortError, uncaught, is reported in one line instead of a stack:
// an 'uncaughtException' listener, added at the first signal, recognises the AbortErrors of
// stopped jobs (and only them) and exits with the signal's status. A program that catches the
// error sees nothing of this: it goes on (async cleanup included), and exits with 130 or 143
// when it ends, unless it sets process.exitCode itself.
import { AbortError } from '../errors.js';
import { exitCodes } from '../protocol/exit-codes.js';

// The signals that stop a job (and `polytask run`), and how it then ends: the word for the
// CLI's message, the AbortError's message, and the exit status (128 + the signal's number)
export const stopSignals = {
  SIGINT: { word: 'interrupted', message: 'interrupted by Ctrl-C (SIGINT)', status: exitCodes.interrupted },
  SIGTERM: { word: 'terminated', message: 'terminated by SIGTERM', status: exitCodes.terminated },
} as const;
export type StopSignal = keyof typeof stopSignals;
export const stopSignalNames = Object.keys(stopSignals) as StopSignal[];

// The AbortErrors of jobs stopped by a signal, and that signal
const stoppedJobs = new WeakMap<Error, StopSignal>();
let listening = false;

// Reports an uncaught AbortError of a stopped job in one line; leaves any other error to Node
function onUncaught(error: unknown): void {
  const signal = error instanceof Error ? stoppedJobs.get(error) : undefined;
  if (signal !== undefined) {
    // as Node does with an uncaught error, the process ends now (its `finally` blocks have run)
    process.stderr.write(`${(error as Error).name}: ${(error as Error).message}\n`);
    process.exit(stopSignals[signal].status);
  }
  // another listener of the program's handles it; without one, Node's own report and exit
  // status, thrown again once this listener is gone
  if (process.listenerCount('uncaughtException') > 1) return;
  process.removeListener('uncaughtException', onUncaught);
  listening = false;
  setImmediate(() => {
    throw error;
  });
}

export interface JobSignals {
  // the first stop signal received, if any
  readonly received: StopSignal | undefined;
  // a worker died of a stop signal (it reached the process group before this process's handler
  // ran): the same stop, unless one was received already
  seen(signal: StopSignal): void;
  // removes the handlers; after a signal, sets the exit status unless the program handles that signal
  remove(): void;
}

// Listens for SIGINT and SIGTERM while a job runs; `stop` gets the AbortError to reject with
export function onJobSignals(stop: (error: AbortError) => void): JobSignals {
  const handledByProgram = new Set(stopSignalNames.filter((signal) => process.listenerCount(signal) > 0));
  let received: StopSignal | undefined;
  const onSignal = (signal: StopSignal) => {
    if (received !== undefined) {
      // a second signal while the job stops: exit at once (the program's own handler decides, if any)
      if (!handledByProgram.has(signal)) process.exit(stopSignals[signal].status);
      return;
    }
    received = signal;
    const error = new AbortError(stopSignals[signal].message);
    stoppedJobs.set(error, signal);
    if (!listening) {
      listening = true;
      process.on('uncaughtException', onUncaught);
    }
    stop(error);
  };
  const handlers = stopSignalNames.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return {
    get received() {
      return received;
    },
    seen: (signal) => {
      if (received === undefined) onSignal(signal);
    },
    remove() {
      for (const [signal, handler] of handlers) process.removeListener(signal, handler);
      if (received !== undefined && !handledByProgram.has(received)) process.exitCode = stopSignals[received].status;
    },
  };
}
