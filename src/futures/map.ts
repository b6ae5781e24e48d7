// map(fn, items, options): the results of fn over an (async) iterable, `concurrency` at a
// time, in input order by default. The input is read lazily; leaving the loop cancels the
// calls still running.
import { AbortError } from '../errors.js';
import { positiveInteger } from '../options.js';
import { Future } from './future.js';

export interface MapOptions {
  // calls at once (default 4)
  concurrency?: number;
  // results in input order (default true); false: as they complete
  ordered?: boolean;
  signal?: AbortSignal;
}

// Wraps what fn returned (a Future, a promise or a value) in a Future
function asFuture<R>(returned: R | PromiseLike<R> | Future<R>, item: unknown): Future<R> {
  if (returned instanceof Future) return returned;
  const future = new Future<R>([item]);
  future.setRunning();
  Promise.resolve(returned).then((v) => future.setResult(v), (e: unknown) => future.setException(e instanceof Error ? e : new Error(String(e))));
  return future;
}

export async function* map<T, R>(
  fn: (item: T) => R | PromiseLike<R> | Future<R>,
  items: Iterable<T> | AsyncIterable<T>,
  options: MapOptions = {},
): AsyncGenerator<R, void, undefined> {
  const concurrency = positiveInteger('concurrency', options.concurrency ?? 4);
  const ordered = options.ordered ?? true;
  const { signal } = options;
  const iterator = Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
  // in input order; a completed future stays until it is yielded (ordered) or is taken at once
  const window: Future<R>[] = [];
  let exhausted = false;
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new AbortError('map() was aborted', { cause: signal?.reason }));
    if (signal?.aborted) fail();
    else signal?.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => {});
  try {
    for (;;) {
      while (!exhausted && window.length < concurrency) {
        const step = await iterator.next();
        if (step.done) exhausted = true;
        else window.push(asFuture(fn(step.value), step.value));
      }
      if (window.length === 0) return;
      let next: Future<R>;
      if (ordered) {
        next = window[0]!;
        await Promise.race([next.then(() => {}, () => {}), aborted]);
        window.shift();
      } else {
        await Promise.race([Promise.race(window.map((f) => f.then(() => {}, () => {}))), aborted]);
        const index = window.findIndex((f) => f.done());
        next = window.splice(index, 1)[0]!;
      }
      yield next.result();
    }
  } finally {
    for (const future of window) future.cancel();
    if (!exhausted) await iterator.return?.();
  }
}
