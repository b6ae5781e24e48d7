// Writes result lines to stdout or a file in blocks of about 64 KiB, waiting when the
// destination is slower than the pool
import type { Writable } from 'node:stream';
import { pEvent } from 'p-event';

const blockSize = 64 * 1024;

export class LineWriter {
  readonly #stream: Writable;
  // what is queued: text, or bytes copied through (a child's output lines)
  #pieces: (string | Buffer)[] = [];
  #size = 0;
  #flushTimer: NodeJS.Immediate | undefined;
  #failed = false;
  #draining: Promise<void> | undefined;

  // `onError` hears of the first write error (EPIPE when the reader stopped, say)
  constructor(stream: Writable, onError: (error: Error) => void) {
    this.#stream = stream;
    stream.on('error', (error) => {
      if (this.#failed) return;
      this.#failed = true;
      onError(error);
    });
  }

  // Queues lines; resolves once the stream can take more: while it is full (a reader that is
  // slow or stopped), the caller waits here, and so takes no more results
  async write(text: string | readonly Buffer[]): Promise<void> {
    if (typeof text === 'string') {
      this.#pieces.push(text);
      this.#size += text.length;
    } else {
      for (const piece of text) {
        this.#pieces.push(piece);
        this.#size += piece.length;
      }
    }
    if (this.#size >= blockSize) {
      await this.flush();
    } else {
      // whatever arrives in this turn of the event loop goes out together
      this.#flushTimer ??= setImmediate(() => void this.flush().catch(() => {}));
      await this.#draining;
    }
  }

  async flush(): Promise<void> {
    if (this.#flushTimer !== undefined) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#size === 0 || this.#failed) return;
    const pieces = this.#pieces;
    this.#pieces = [];
    this.#size = 0;
    if (!writeAll(this.#stream, pieces)) {
      // one wait for all: flushes that overlap share it. An 'error' ends it too (the
      // constructor's listener reports it); the listeners go either way, so that waiting often
      // does not pile them up
      this.#draining ??= pEvent<string, unknown>(this.#stream, ['drain', 'error']).then(() => {
        this.#draining = undefined;
      });
    }
    await this.#draining;
  }

  // Flushes and, for a file, closes it (stdout stays open: bin/polytask.js waits for what is
  // still queued there before the process exits)
  async end(closeStream: boolean): Promise<void> {
    await this.flush();
    if (!closeStream || this.#failed) return;
    this.#stream.end();
    await pEvent(this.#stream, 'finish');
  }
}

// Writes what is queued: text joined in one write, bytes (a child's output lines, in the pieces
// they were read in) without a copy, corked into one writev where the stream has one; false when
// the stream wants the writer to wait for 'drain'
function writeAll(stream: Writable, pieces: (string | Buffer)[]): boolean {
  if (pieces.every((piece) => typeof piece === 'string')) return stream.write(pieces.join(''));
  stream.cork();
  let more = true;
  for (const piece of pieces) more = stream.write(piece);
  stream.uncork();
  return more;
}
