// map(fn, items, options): the results of fn over an (async) iterable, `concurrency` at a
// time, in input order by default. The input is read lazily; leaving the loop cancels the
// calls still running.
import { AbortError } from '../errors.js';
import { knownOptions, optionKeys, positiveInteger } from '../options.js';
import { Future } from './future.js';

export const mapOptionKeys = optionKeys<MapOptions>()(['concurrency', 'ordered', 'signal']);
/** Options of map() */
export interface MapOptions {
  /**
   * Calls at once: items read from the input ahead of the results
   * @default 4
   */
  concurrency?: number;
  /**
   * Results in input order; false: as they complete
   * @default true
   */
  ordered?: boolean;
  /**
   * Stops the loop: the calls in flight are cancelled and the loop throws an AbortError
   * @default none
   */
  signal?: AbortSignal;
}

const noop = () => {};

// Wraps what fn returned (a Future, a promise or a value) in a Future
function asFuture<R>(returned: R | PromiseLike<R> | Future<R>, item: unknown): Future<R> {
  if (returned instanceof Future) return returned;
  const future = new Future<R>([item]);
  future.setRunning();
  Promise.resolve(returned).then((v) => future.setResult(v), (e: unknown) => future.setException(e instanceof Error ? e : new Error(String(e))));
  return future;
}

// Checks the options at the call (a generator's body runs only at the first next())
/**
 * The results of fn over an (async) iterable, `concurrency` calls at a time, in input order by
 * default. The input is read lazily; leaving the loop cancels the calls still running.
 */
export function map<T, R>(
  fn: (item: T) => R | PromiseLike<R> | Future<R>,
  items: Iterable<T> | AsyncIterable<T>,
  options: MapOptions = {},
): AsyncGenerator<R, void, undefined> {
  knownOptions('map()', options, mapOptionKeys);
  return mapItems(fn, items, positiveInteger('concurrency', options.concurrency ?? 4), options.ordered ?? true, options.signal);
}

async function* mapItems<T, R>(
  fn: (item: T) => R | PromiseLike<R> | Future<R>,
  items: Iterable<T> | AsyncIterable<T>,
  concurrency: number,
  ordered: boolean,
  signal: AbortSignal | undefined,
): AsyncGenerator<R, void, undefined> {
  const iterator = Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
  // in input order; a completed future stays until it is yielded (ordered) or is taken at once
  const window: Future<R>[] = [];
  let exhausted = false;
  // an abort cancels the calls in flight, which ends the wait below (no long-lived promise
  // is raced at each step: every race would keep its step's result alive)
  const onAbort = () => {
    for (const future of window) future.cancel();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const checkAbort = () => {
    if (signal?.aborted) throw new AbortError('map() was aborted', { cause: signal.reason });
  };
  // each future says once that it is done (unordered): a race over the window at each step
  // would leave a reaction on a slow future for every result taken meanwhile
  let wake: (() => void) | undefined;
  const settled = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  try {
    checkAbort();
    for (;;) {
      while (!exhausted && window.length < concurrency) {
        const step = await iterator.next();
        if (step.done) exhausted = true;
        else {
          const future = asFuture(fn(step.value), step.value);
          window.push(future);
          if (!ordered) future.then(settled, settled);
        }
      }
      checkAbort();
      if (window.length === 0) return;
      let next: Future<R>;
      if (ordered) {
        next = window[0]!;
        await next.then(noop, noop);
        window.shift();
      } else {
        let index = window.findIndex((f) => f.done());
        while (index === -1) {
          await new Promise<void>((resolve) => (wake = resolve));
          index = window.findIndex((f) => f.done());
        }
        next = window.splice(index, 1)[0]!;
      }
      checkAbort();
      yield next.result();
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    for (const future of window) future.cancel();
    if (!exhausted) await iterator.return?.();
  }
}
