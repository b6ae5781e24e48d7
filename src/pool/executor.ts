// The one interface every runtime implements. task(), waitFor() and the jobs are written
// against it only, so a new runtime plugs in without touching them.

export interface RunOptions {
  // aborted when the caller cancels: a call not started never starts; a running one has its
  // worker stopped (and replaced), and run() rejects with the signal's reason
  signal: AbortSignal;
  // ms for this call; the worker is stopped and replaced, run() rejects with a TimeoutError
  timeout?: number | undefined;
  // called once, when the call starts on a worker
  onStart?: (() => void) | undefined;
}

export interface Executor<C> {
  // Runs one call; resolves with its value or rejects with its error (a real Error)
  run(call: C, options: RunOptions): Promise<unknown>;
  // Ends every worker; calls still queued reject
  close(): Promise<void>;
}
