// SIGINT (Ctrl-C) and SIGTERM during `polytask run`: the first one stops the run (the caller
// stops reading, ends the children and flushes the results, then exits 130 or 143); a second
// one while it stops exits at once. `stop` runs in the signal's own handler, not where the run
// happens to wait (a write to a stdout nobody reads can wait for ever), so that what it ends,
// the children, is ended at once.
import { stopSignalNames, stopSignals, type StopSignal } from '../job/stop-signals.js';

export interface StopSignals {
  // the first signal received, if any
  readonly received: StopSignal | undefined;
  // removes the handlers (when the run is over)
  remove(): void;
}

export function onStopSignals(stop: (signal: StopSignal) => void): StopSignals {
  let received: StopSignal | undefined;
  const handlers = stopSignalNames.map((signal) => {
    const handler = () => {
      if (received !== undefined) process.exit(stopSignals[signal].status);
      received = signal;
      stop(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    get received() {
      return received;
    },
    remove() {
      for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    },
  };
}
