// Writes result lines to stdout or a file, waiting when the destination is slower than the pool
import type { Writable } from 'node:stream';
import { once } from 'node:events';

export class LineWriter {
  readonly #stream: Writable;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  // Writes a block of lines; resolves once the stream can take more
  async write(text: string): Promise<void> {
    if (text === '') return;
    if (!this.#stream.write(text)) await once(this.#stream, 'drain');
  }

  // Flushes and, for a file, closes it
  async end(closeStream: boolean): Promise<void> {
    if (!closeStream) return;
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}
