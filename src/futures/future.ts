// Future<T>: the result of one call that runs elsewhere. States as in concurrent.futures:
// pending -> running -> finished, or pending/running -> cancelled.
import { CancelledError, InvalidStateError } from '../errors.js';

export type FutureState = 'pending' | 'running' | 'cancelled' | 'finished';

// What waitFor() yields: the Future itself, typed without its promise methods, because
// TypeScript types a `for await` variable as the awaited value of a thenable
export type DoneFuture<T> = Pick<Future<T>, 'id' | 'args' | 'state' | 'signal' | 'done' | 'running' | 'cancelled' | 'result' | 'exception' | 'cancel'>;

let nextId = 1;

/**
 * The result of one call that runs elsewhere: poll it (done(), result(), exception()), await
 * it, or cancel() it. States as in concurrent.futures: pending -> running -> finished, or
 * pending/running -> cancelled.
 */
export class Future<T = unknown> implements PromiseLike<T> {
  readonly id: number;
  readonly args: readonly unknown[];
  #state: FutureState = 'pending';
  #value: T | undefined;
  #error: Error | undefined;
  // Made only when the future is awaited (then/catch/finally): a future that is only
  // polled, or awaited once it is done, costs no pending promise. It gets its handler as it
  // is made, so a failure is never an "unhandled rejection" of the future itself.
  #promise: Promise<T> | undefined;
  #resolve: ((value: T) => void) | undefined;
  #reject: ((error: Error) => void) | undefined;
  // created when first asked for (an AbortSignal costs some microseconds and memory)
  #abort: AbortController | undefined;
  // the executors' listeners of the cancel (see onAbort); usually one
  #onAbort: (() => void)[] | undefined;

  constructor(args: readonly unknown[]) {
    this.id = nextId++;
    this.args = Object.freeze([...args]);
  }

  /** Aborted when the future is cancelled: the executor stops (or never starts) the call */
  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      this.#abort = new AbortController();
      if (this.#state === 'cancelled') this.#abort.abort(this.#error);
    }
    return this.#abort.signal;
  }

  get state(): FutureState {
    return this.#state;
  }

  done(): boolean {
    return this.#state === 'finished' || this.#state === 'cancelled';
  }

  running(): boolean {
    return this.#state === 'running';
  }

  cancelled(): boolean {
    return this.#state === 'cancelled';
  }

  /** The value; throws the call's error, the CancelledError of a cancel, or InvalidStateError while not done */
  result(): T {
    if (this.#state === 'cancelled') throw this.#error!;
    if (this.#state !== 'finished') throw new InvalidStateError(`future ${this.id} is ${this.#state}: its result is not available yet`);
    if (this.#error !== undefined) throw this.#error;
    return this.#value as T;
  }

  /** The call's error, or undefined when it succeeded; throws like result() when not finished */
  exception(): Error | undefined {
    if (this.#state === 'cancelled') throw this.#error!;
    if (this.#state !== 'finished') throw new InvalidStateError(`future ${this.id} is ${this.#state}: its exception is not available yet`);
    return this.#error;
  }

  /**
   * Stops the call: a pending one never starts, a running one has its worker stopped and
   * replaced. The future then rejects with a CancelledError (an AbortError) whose `cause` is
   * `reason`. Returns false when the future is already done.
   * @param reason why, as an AbortSignal's reason (a task's or a call's signal passes its own)
   */
  cancel(reason?: unknown): boolean {
    if (this.done()) return this.#state === 'cancelled';
    this.#state = 'cancelled';
    const error = new CancelledError(this.id, reason);
    this.#error = error;
    this.#reject?.(error);
    this.#abort?.abort(error);
    const listeners = this.#onAbort;
    this.#onAbort = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener();
    return true;
  }

  /**
   * For executors: calls the listener when the future is cancelled, right after its signal
   * aborts (cheaper than an 'abort' listener on the signal), at once when it was cancelled
   * already; returns the unsubscribe
   */
  onAbort(listener: () => void): () => void {
    if (this.#state === 'cancelled') {
      listener();
      return () => {};
    }
    const listeners = (this.#onAbort ??= []);
    listeners.push(listener);
    return () => {
      const index = this.#onAbort?.indexOf(listener) ?? -1;
      if (index !== -1) this.#onAbort!.splice(index, 1);
    };
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#settled().then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#settled().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#settled().finally(onFinally);
  }

  // The promise of the outcome, made on first use
  #settled(): Promise<T> {
    if (this.#promise !== undefined) return this.#promise;
    if (this.#state === 'finished' || this.#state === 'cancelled') {
      this.#promise = this.#error === undefined ? Promise.resolve(this.#value as T) : Promise.reject(this.#error);
    } else {
      this.#promise = new Promise<T>((resolve, reject) => {
        this.#resolve = resolve;
        this.#reject = reject;
      });
    }
    return this.#promise;
  }

  // For the code that runs the call (task(), caller(), map()): marked @internal, so that
  // stripInternal keeps them out of the .d.ts; a user settles a future only by cancel()

  /** @internal The call has started on a worker */
  setRunning(): void {
    if (this.#state === 'pending') this.#state = 'running';
  }

  /** @internal The call returned `value` */
  setResult(value: T): void {
    if (this.done()) return;
    this.#state = 'finished';
    this.#value = value;
    this.#resolve?.(value);
  }

  /** @internal The call failed with `error` */
  setException(error: Error): void {
    if (this.done()) return;
    this.#state = 'finished';
    this.#error = error;
    this.#reject?.(error);
  }
}
