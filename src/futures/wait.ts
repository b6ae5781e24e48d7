// waitFor(inFlight, concurrency?): yields futures as they complete, removing them from the
// caller's array in place (a future listed twice is yielded once); with a concurrency,
// yields undefined to ask the caller for more.
import { positiveInteger } from '../options.js';
import type { DoneFuture, Future } from './future.js';

// Settled futures, in the order they settled. Each future is watched once; one put back
// into the list after it was yielded is queued again, as it will not settle again.
class Completions<T> {
  readonly #watched = new WeakSet<Future<T>>();
  readonly #settled: Future<T>[] = [];
  readonly #queued = new Set<Future<T>>();
  #wake: (() => void) | undefined;

  watch(futures: readonly Future<T>[]): void {
    for (const future of futures) {
      if (this.#watched.has(future)) {
        if (future.done() && !this.#queued.has(future)) this.#queue(future);
        continue;
      }
      this.#watched.add(future);
      const settle = () => this.#queue(future);
      future.then(settle, settle);
    }
  }

  #queue(future: Future<T>): void {
    if (this.#queued.has(future)) return;
    this.#queued.add(future);
    this.#settled.push(future);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  // The first settled future that is still in `inFlight`, with every entry of it removed
  // from `inFlight` (a future listed twice is yielded once); waits (without polling) for one.
  // Boxed: an async function returning a thenable would resolve to its value instead.
  async next(inFlight: Future<T>[]): Promise<{ future: Future<T> }> {
    for (;;) {
      while (this.#settled.length > 0) {
        const future = this.#settled.shift()!;
        this.#queued.delete(future);
        if (removeAll(inFlight, future)) return { future };
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

// Removes every entry of `future` from `list` in place; whether there was one
function removeAll<T>(list: T[], future: T): boolean {
  let kept = list.indexOf(future);
  if (kept === -1) return false;
  for (let i = kept + 1; i < list.length; i++) if (list[i] !== future) list[kept++] = list[i]!;
  list.length = kept;
  return true;
}

// Written as an iterator object, not an async generator: a generator would await each
// future it yields (a Future is a thenable) instead of handing it over.
class WaitFor<T> implements AsyncIterableIterator<DoneFuture<T> | undefined> {
  readonly #inFlight: Future<T>[];
  readonly #concurrency: number | undefined;
  readonly #completions = new Completions<T>();
  #ask: boolean;
  #lengthWhenAsked: number | undefined;
  #finished = false;

  constructor(inFlight: Future<T>[], concurrency: number | undefined) {
    this.#inFlight = inFlight;
    this.#concurrency = concurrency;
    this.#ask = concurrency !== undefined;
  }

  async next(): Promise<IteratorResult<DoneFuture<T> | undefined, undefined>> {
    const inFlight = this.#inFlight;
    if (this.#finished) return { done: true, value: undefined };
    // the caller added nothing when asked: stop asking until a future completes
    if (this.#lengthWhenAsked !== undefined && inFlight.length <= this.#lengthWhenAsked) this.#ask = false;
    this.#lengthWhenAsked = undefined;
    if (this.#ask && inFlight.length < this.#concurrency!) {
      this.#lengthWhenAsked = inFlight.length;
      return { done: false, value: undefined };
    }
    if (inFlight.length === 0) return this.return();
    this.#completions.watch(inFlight);
    const { future } = await this.#completions.next(inFlight);
    this.#ask = this.#concurrency !== undefined;
    return { done: false, value: future };
  }

  async return(): Promise<IteratorResult<DoneFuture<T> | undefined, undefined>> {
    this.#finished = true;
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Yields the futures of `inFlight` as they complete, removing them from the array in place (a
 * future listed twice is yielded once). With a concurrency, yields undefined while fewer than
 * that many are in flight: the caller's cue to push more (without one, every value yielded is
 * a done future, and typed so).
 */
export function waitFor<T>(inFlight: Future<T>[]): AsyncIterableIterator<DoneFuture<T>>;
export function waitFor<T>(inFlight: Future<T>[], concurrency: number | undefined): AsyncIterableIterator<DoneFuture<T> | undefined>;
export function waitFor<T>(inFlight: Future<T>[], concurrency?: number): AsyncIterableIterator<DoneFuture<T> | undefined> {
  return new WaitFor(inFlight, concurrency === undefined ? undefined : positiveInteger('concurrency', concurrency));
}
