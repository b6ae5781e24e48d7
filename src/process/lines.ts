// Line delivery shared by Subprocess and Instance: every line of a stream, once, including
// the last one without a newline, and never an empty end-of-stream call.
import type { Readable } from 'node:stream';
import { LineSplitter } from '../protocol/lines.js';

// Drops the '\r' of a '\r\n' line end
function trimmed(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

// Calls `onLine` for each line of `stream` (without its line end); resolves when the stream has
// ended or was destroyed, after the last line
export function followLines(stream: Readable, onLine: (line: string) => void, onChunk?: (chunk: string) => void): Promise<void> {
  const splitter = new LineSplitter();
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    onChunk?.(chunk);
    for (const line of splitter.push(chunk)) onLine(trimmed(line));
  });
  return new Promise((resolve) => {
    stream.once('close', () => {
      const tail = splitter.end();
      if (tail !== '') onLine(trimmed(tail));
      resolve();
    });
  });
}

// A queue read with `for await`: push() and end() on one side, the iterator on the other
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  #ended = false;
  #error: Error | undefined;
  #waiter: (() => void) | undefined;

  push(item: T): void {
    this.#items.push(item);
    this.#wake();
  }

  end(error?: Error): void {
    this.#ended = true;
    this.#error = error;
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.#items.length > 0) return { value: this.#items.shift()!, done: false };
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    this.#ended = true;
    this.#items.length = 0;
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
