// Streams items through an executor with bounded memory. The items between reading and writing (in
// flight, waiting for their turn in order, and in the batch the consumer is handling) are
// kept within a window of a few times the pool's capacity: the input is read no further than
// that, even from inside a chunk of many lines, so neither a slow first item of an ordered run
// nor a slow consumer (a stdout nobody reads) makes the results pile up.
import { AbortError } from '../errors.js';
import type { Executor } from '../pool/executor.js';
import { dropFront } from '../pool/queue.js';

export interface StreamOptions<I, R, P> {
  ordered?: boolean;
  // the input yields arrays of items (read a chunk at a time), not single items; a chunk is
  // still submitted only as far as the window allows
  chunked?: boolean;
  signal?: AbortSignal | undefined;
  // sends one item to the executor (or answers it at once, e.g. an unparsable line)
  submit: (item: I, done: (result: P) => void) => void;
  // builds what the consumer sees from the item, its 0-based position and its result
  toResult: (item: I, index: number, result: P) => R;
}

const notYet = Symbol('not yet');

// How many items may be between reading and writing: this many times the executor's capacity
// (workers x calls in flight per worker), so that the workers never wait for work in a steady run
export const windowFactor = 2;

// Puts results back in input order: each result comes with its 0-based index, and leaves once
// all before it have. The early ones wait in an array cut from the front, not a Map: a Map
// taking and dropping a result per item keeps them alive into the old generation (see
// pool/inflight.ts).
export class InOrder<R> {
  // waiting[head] is the place of result `next`
  #waiting: (R | typeof notYet)[] = [];
  #head = 0;
  #next = 0;

  // Adds a result; pushes onto `out` every result that is now next in order
  add(index: number, value: R, out: R[]): void {
    if (index !== this.#next) {
      const at = this.#head + index - this.#next;
      // filled up to the place: an index far past the end would make a slow, sparse array
      while (this.#waiting.length <= at) this.#waiting.push(notYet);
      this.#waiting[at] = value;
      return;
    }
    out.push(value);
    const waiting = this.#waiting;
    let head = this.#head + 1;
    while (head < waiting.length && waiting[head] !== notYet) {
      out.push(waiting[head] as R);
      waiting[head] = notYet;
      head++;
    }
    this.#next += head - this.#head;
    if (head >= waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (dropFront(waiting.length, head)) {
      this.#waiting = waiting.slice(head);
      this.#head = 0;
    } else {
      this.#head = head;
    }
  }
}

// Yields results in batches (all that are ready at once), so the per-item cost stays low
export async function* streamResults<I, R, P>(
  executor: Pick<Executor, 'capacity'>,
  // single items, or arrays of items with `chunked: true`
  items: Iterable<I> | AsyncIterable<I> | AsyncIterable<I[]>,
  options: StreamOptions<I, R, P>,
): AsyncGenerator<R[], void, undefined> {
  const { signal, submit, toResult } = options;
  const ordered = options.ordered ?? false;
  let ready: R[] = [];
  const inOrder = new InOrder<R>();
  let submitted = 0;
  let handedOut = 0;
  let inputDone = false;
  let inputError: { error: unknown } | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  let space: (() => void) | undefined;

  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const limit = () => executor.capacity * windowFactor;

  const deliver = (index: number, value: R) => {
    if (ordered) inOrder.add(index, value, ready);
    else ready.push(value);
    notify();
  };

  const submitOne = (item: I) => {
    const index = submitted++;
    submit(item, (result) => {
      if (!stopped) deliver(index, toResult(item, index, result));
    });
  };
  const chunked = options.chunked ?? false;
  const isAsync = Symbol.asyncIterator in items;
  const iterator = isAsync
    ? (items as AsyncIterable<I | I[]>)[Symbol.asyncIterator]()
    : (items as Iterable<I>)[Symbol.iterator]();

  // the chunk being submitted, and the position of its next item
  let chunk: I[] = [];
  let at = 0;

  // Reads the input while there is room in the window; pauses until the consumer is done with
  // a batch
  const feed = async () => {
    try {
      while (!stopped) {
        let room = limit() - (submitted - handedOut);
        while (!stopped && room > 0) {
          if (at < chunk.length) {
            const end = Math.min(chunk.length, at + room);
            room -= end - at;
            // `stopped` too: a submit may stop the run (a bad line with --on-bad-line fail)
            while (at < end && !stopped) submitOne(chunk[at++]!);
            if (at >= chunk.length) chunk = [];
            continue;
          }
          const step = isAsync ? await iterator.next() : (iterator.next() as IteratorResult<I | I[]>);
          if (step.done || stopped) return;
          if (chunked) {
            chunk = step.value as I[];
            at = 0;
          } else {
            submitOne(step.value as I);
            room--;
          }
        }
        if (stopped) return;
        await new Promise<void>((resolve) => (space = resolve));
      }
    } catch (error) {
      inputError = { error };
    } finally {
      inputDone = true;
      notify();
    }
  };

  const onAbort = () => {
    stopped = true;
    notify();
    space?.();
  };
  if (signal?.aborted) throw new AbortError('the run was aborted', { cause: signal.reason });
  signal?.addEventListener('abort', onAbort, { once: true });
  const feeding = feed();
  try {
    while (true) {
      if (signal?.aborted) throw new AbortError('the run was aborted', { cause: signal.reason });
      if (ready.length > 0) {
        const batch = ready;
        ready = [];
        yield batch;
        // the consumer is back for more: this batch is written (or being written by a stream
        // that can take it), so it leaves the window
        handedOut += batch.length;
        const resume = space;
        space = undefined;
        resume?.();
        continue;
      }
      if (inputError !== undefined) throw inputError.error;
      if (inputDone && handedOut === submitted) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stopped = true;
    signal?.removeEventListener('abort', onAbort);
    space?.();
    // an input still waiting for its next item (stdin, say) must not hold the consumer up
    if (!inputDone) void Promise.resolve(iterator.return?.()).catch(() => {});
    void feeding;
  }
}
