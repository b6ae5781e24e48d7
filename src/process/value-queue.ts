// Values waiting for readers, and readers waiting for values, served in order: the one queue
// behind Instance.recv(), the child helper's parent.recv() and Subprocess.lines().

interface Reader<T> {
  value(value: T): void;
  // the queue has ended and is empty: `error`, or the end of the iteration without one
  end(error: Error | undefined): void;
}

export class ValueQueue<T> implements AsyncIterableIterator<T> {
  readonly #values: T[] = [];
  readonly #readers: Reader<T>[] = [];
  #ended = false;
  #error: Error | undefined;

  // Whether end() was called (values pushed before it may still wait to be read)
  get ended(): boolean {
    return this.#ended;
  }

  // Readers waiting for a value now
  get waiting(): number {
    return this.#readers.length;
  }

  push(value: T): void {
    const reader = this.#readers.shift();
    if (reader !== undefined) reader.value(value);
    else this.#values.push(value);
  }

  // Ends the queue once its values are read: take() then rejects with `error`, and the
  // iteration ends (throwing `error`, if any). The first end() counts.
  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    for (const reader of this.#readers.splice(0)) reader.end(error);
  }

  // The next value; rejects with the end's error once the queue has ended and is empty
  take(): Promise<T> {
    if (this.#values.length > 0) return Promise.resolve(this.#values.shift() as T);
    if (this.#ended) return Promise.reject(this.#error ?? endedError());
    return new Promise((resolve, reject) => this.#readers.push({ value: resolve, end: (error) => reject(error ?? endedError()) }));
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#values.length > 0) return Promise.resolve({ value: this.#values.shift() as T, done: false });
    if (this.#ended) return this.#error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#readers.push({
      value: (value) => resolve({ value, done: false }),
      end: (error) => (error === undefined ? resolve({ value: undefined, done: true }) : reject(error)),
    }));
  }

  // A reader that stops (a `break` out of `for await`): the values left are dropped
  async return(): Promise<IteratorResult<T, undefined>> {
    this.end();
    this.#values.length = 0;
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function endedError(): Error {
  return new Error('the queue has ended');
}
