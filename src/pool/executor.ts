// The one interface every runtime implements: worker threads and JavaScript child processes
// (ThreadPool), the cross-language pool (ProcessPool), this process (InlineExecutor). task(),
// map(), SynchronousJob, JobRunner, the stream and the CLI are written against it only, so a
// new runtime plugs in without touching them. docs/api.md states the same contract.

/** How one call is run, and what the caller hears of it */
export interface RunOptions {
  /**
   * Cancels the call: a call not started never starts; a running one has its worker stopped
   * (and replaced), and the call rejects with the signal's `reason`.
   * @default none
   */
  signal?: AbortSignal | undefined;
  /**
   * Instead of an `'abort'` listener on `signal` (about 12 us per call in Node 20): subscribes
   * a listener called right after the cancel, at once when it was cancelled already; returns
   * its unsubscribe. A Future gives it. The call then rejects with `signal.reason`.
   * @default none
   */
  onAbort?: ((listener: () => void) => () => void) | undefined;
  /**
   * ms the call may run, counted from when a worker starts it: its worker is then stopped and
   * replaced, and the call rejects with a TimeoutError.
   * @default no limit
   */
  timeout?: number | undefined;
  /**
   * Called once, when a worker starts the call (not again when it runs again).
   * @default none
   */
  onStart?: (() => void) | undefined;
}

/** The caller's side of one submitted call: `resolve` or `reject` is called exactly once */
export interface Receiver<R> extends RunOptions {
  resolve(value: R): void;
  // an Error, or the signal's reason as the caller gave it
  reject(error: unknown): void;
}

/** Options of `close()` */
export interface CloseOptions {
  /**
   * ms a running call may still take before its worker is killed.
   * @default 2000 (ProcessPool); ThreadPool and InlineExecutor stop at once
   */
  graceMs?: number;
}

/**
 * Runs calls of type `C`, each to a value of type `R`.
 *
 * The contract, the same for every implementation (test/pool/executor-contract.test.ts):
 * - **One answer per call.** `submit()` calls exactly one of `receiver.resolve(value)` and
 *   `receiver.reject(error)`, never synchronously from inside `submit()` unless the call is
 *   refused at once (closed executor, an argument that cannot be sent, a signal aborted
 *   already); `run()` is the same as a promise. An error is an `Error` (a cancelled call's is
 *   the signal's `reason`, as the caller gave it): a failure of the call's own code is a `RemoteError` (the cross-language pool) or the thrown error itself
 *   (JavaScript runtimes, with its stack and `cause`); a dead worker is a `WorkerExitedError`,
 *   a timeout a `TimeoutError`, a closed executor a `PoolClosedError`.
 * - **Ordering.** Calls are handed to the workers in the order they were submitted: on one
 *   worker they start in that order; on several, calls handed out together may start in any
 *   order (a call sent back after a death starts again before later ones). They finish in
 *   any order.
 * - **Cancellation.** Aborting `signal` (or the `onAbort` source) before the call starts
 *   means it never starts; while it runs, its worker is stopped and replaced (other calls
 *   that worker held are run again elsewhere, at least once). The call rejects with the
 *   signal's `reason`. Cancelling after the answer does nothing.
 * - **Timeouts** count from the call's start, not its submission (`onStart`).
 * - **Retries** are not the executor's: a call is answered once, and the caller (task(),
 *   the pool's retry policy) decides whether to submit it again.
 * - **A death** of a worker fails only the call that caused it (WorkerExitedError); calls
 *   that merely shared the worker run again (at-least-once). The executor replaces the worker.
 * - **close()** refuses new calls (PoolClosedError), answers every queued or running call
 *   (rejected), ends every worker and resolves once none is left. It can be called twice:
 *   the second call waits for the first.
 */
export interface Executor<C = unknown, R = unknown> {
  /** Calls it can usefully hold at once (workers x calls per worker): what a stream keeps in flight */
  readonly capacity: number;
  /** Starts the workers ahead of the first call and rejects if they cannot start (a SetupError); optional to call */
  start(): Promise<void>;
  /** Submits one call; the receiver hears its answer (the primitive the rest is built on) */
  submit(call: C, receiver: Receiver<R>): void;
  /** Runs one call: resolves with its value or rejects with its error */
  run(call: C, options?: RunOptions): Promise<R>;
  /** Ends every worker; calls not answered reject */
  close(options?: CloseOptions): Promise<void>;
}

/** `run()` written once, over `submit()` */
export function runOn<C, R>(executor: Pick<Executor<C, R>, 'submit'>, call: C, options: RunOptions = {}): Promise<R> {
  return new Promise<R>((resolve, reject) => executor.submit(call, { ...options, resolve, reject }));
}
