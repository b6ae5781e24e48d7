// Writes result lines to stdout or a file in blocks of about 64 KiB, waiting when the
// destination is slower than the pool
import type { Writable } from 'node:stream';
import { pEvent } from 'p-event';

const blockSize = 64 * 1024;

export class LineWriter {
  readonly #stream: Writable;
  #buffer = '';
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
  async write(text: string): Promise<void> {
    this.#buffer += text;
    if (this.#buffer.length >= blockSize) {
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
    if (this.#buffer === '' || this.#failed) return;
    const text = this.#buffer;
    this.#buffer = '';
    if (!this.#stream.write(text)) {
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
