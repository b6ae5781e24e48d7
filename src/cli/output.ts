// Writes result lines to stdout or a file in blocks of about 64 KiB, waiting when the
// destination is slower than the pool
import type { Writable } from 'node:stream';
import { once } from 'node:events';

const blockSize = 64 * 1024;

export class LineWriter {
  readonly #stream: Writable;
  #buffer = '';
  #flushTimer: NodeJS.Immediate | undefined;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  // Queues lines; resolves once the stream can take more
  async write(text: string): Promise<void> {
    this.#buffer += text;
    if (this.#buffer.length >= blockSize) {
      await this.flush();
    } else {
      // whatever arrives in this turn of the event loop goes out together
      this.#flushTimer ??= setImmediate(() => void this.flush());
    }
  }

  async flush(): Promise<void> {
    if (this.#flushTimer !== undefined) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#buffer === '') return;
    const text = this.#buffer;
    this.#buffer = '';
    if (!this.#stream.write(text)) await once(this.#stream, 'drain');
  }

  // Flushes and, for a file, closes it
  async end(closeStream: boolean): Promise<void> {
    await this.flush();
    if (!closeStream) return;
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}
