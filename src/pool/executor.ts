// The one interface every runtime implements. task(), waitFor() and the jobs are written
// against it only, so a new runtime plugs in without touching them.

export interface RunOptions {
  // aborted when the caller cancels: a call not started never starts; a running one has its
  // worker stopped (and replaced), and run() rejects with the signal's reason
  signal: AbortSignal;
  // optional: subscribes a listener called right after `signal` aborts; returns its
  // unsubscribe. An executor uses it, when given, rather than an 'abort' listener on the
  // signal, which costs some 12 us per call in Node 20 (a Future gives it). The listener is
  // called at once when the signal aborted already
  onAbort?: ((listener: () => void) => () => void) | undefined;
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
