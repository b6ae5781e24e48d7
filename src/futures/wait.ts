// waitFor(inFlight, concurrency?): yields futures as they complete, removing them from the
// caller's array in place; with a concurrency, yields undefined to ask the caller for more.
import { positiveInteger } from '../options.js';
import type { DoneFuture, Future } from './future.js';

// Settled futures, in the order they settled; each future is watched once
class Completions<T> {
  readonly #watched = new WeakSet<Future<T>>();
  readonly #settled: Future<T>[] = [];
  #wake: (() => void) | undefined;

  watch(futures: readonly Future<T>[]): void {
    for (const future of futures) {
      if (this.#watched.has(future)) continue;
      this.#watched.add(future);
      const settle = () => {
        this.#settled.push(future);
        const wake = this.#wake;
        this.#wake = undefined;
        wake?.();
      };
      future.then(settle, settle);
    }
  }

  // The first settled future that is still in `inFlight`; waits (without polling) for one.
  // Boxed: an async function returning a thenable would resolve to its value instead.
  async next(inFlight: Future<T>[]): Promise<{ future: Future<T> }> {
    for (;;) {
      while (this.#settled.length > 0) {
        const future = this.#settled.shift()!;
        const index = inFlight.indexOf(future);
        if (index !== -1) {
          inFlight.splice(index, 1);
          return { future };
        }
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
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

export function waitFor<T>(inFlight: Future<T>[], concurrency?: number): AsyncIterableIterator<DoneFuture<T> | undefined> {
  return new WaitFor(inFlight, concurrency === undefined ? undefined : positiveInteger('concurrency', concurrency));
}
