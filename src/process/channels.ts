// Channels: non-blocking byte (or line) endpoints to a running process, a socket, or a test.
//
//   read()      what is available now, never waits: an empty Buffer when nothing is; after the
//               peer has gone, what was left, then EndpointClosedError
//   write(...)  throws EndpointClosedError after close() or once the peer has gone
//   readAsync() / for await   wait for data (the iterator ends when the peer has gone)
//
// A Channel is deliberately not a thenable: an async function that returns one would resolve
// to its data instead of the channel. Use readAsync() where `await channel` was meant.
import type { Readable, Writable } from 'node:stream';
import { EndpointClosedError } from '../errors.js';
import { knownOptions } from '../options.js';

export type Chunk = string | Uint8Array;
const empty: Buffer = Buffer.alloc(0);

export abstract class Channel {
  readonly #listeners = new Set<() => void>();

  // Data available now (an empty Buffer if none); throws EndpointClosedError once closed and drained
  abstract read(): Buffer;
  abstract write(...chunks: Chunk[]): void;
  abstract close(): void;
  // true once read() can only throw: closed here, or the peer gone and everything read
  abstract get ended(): boolean;

  // Calls `listener` whenever data arrives or the peer goes; returns the unsubscribe
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  protected changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  // The next data, waiting for it; throws EndpointClosedError when there will be none
  async readAsync(): Promise<Buffer> {
    for (;;) {
      const data = this.read();
      if (data.length > 0) return data;
      await new Promise<void>((resolve) => {
        const off = this.onChange(() => {
          off();
          resolve();
        });
      });
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      if (this.ended) return;
      try {
        yield await this.readAsync();
      } catch (error) {
        if (error instanceof EndpointClosedError) return;
        throw error;
      }
    }
  }
}

// Keeps what arrived until read(); subclasses feed it and send the writes
export abstract class BufferedChannel extends Channel {
  #chunks: Buffer[] = [];
  #peerGone = false;
  #closed = false;
  // why the peer is gone, for the error messages
  #why = 'the peer closed the channel';

  protected abstract send(data: Buffer): void;
  protected abstract shut(): void;

  read(): Buffer {
    if (this.#closed) throw new EndpointClosedError('cannot read: the channel was closed');
    if (this.#chunks.length > 0) {
      const data = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      this.#chunks = [];
      return data;
    }
    if (this.#peerGone) throw new EndpointClosedError(`cannot read: ${this.#why}`);
    return empty;
  }

  write(...chunks: Chunk[]): void {
    if (this.#closed) throw new EndpointClosedError('cannot write: the channel was closed');
    if (this.#peerGone) throw new EndpointClosedError(`cannot write: ${this.#why}`);
    for (const chunk of chunks) this.send(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = [];
    this.shut();
    this.changed();
  }

  get ended(): boolean {
    return this.#closed || (this.#peerGone && this.#chunks.length === 0);
  }

  // For subclasses and owners: data from the peer
  protected received(data: Buffer): void {
    if (this.#closed || data.length === 0) return;
    this.#chunks.push(data);
    this.changed();
  }

  // For owners (a Runner whose process exited): the peer is gone; what it sent stays readable
  peerGone(why = 'the peer closed the channel'): void {
    if (this.#peerGone) return;
    this.#peerGone = true;
    this.#why = why;
    this.changed();
  }
}

// Reads from one stream and writes to another (a child's stdout and stdin)
export class PipeChannel extends BufferedChannel {
  readonly #in: Readable | undefined;
  readonly #out: Writable | undefined;

  constructor(streams: { readable?: Readable | null; writable?: Writable | null }) {
    super();
    knownOptions('PipeChannel', streams, ['readable', 'writable']);
    this.#in = streams.readable ?? undefined;
    this.#out = streams.writable ?? undefined;
    this.#in?.on('data', (data: Buffer) => this.received(typeof data === 'string' ? Buffer.from(data) : data));
    this.#in?.once('close', () => this.peerGone('the other end of the pipe was closed'));
    // EPIPE: the reader went away; the next write throws
    this.#out?.on('error', () => this.peerGone('the other end of the pipe was closed'));
    if (this.#in === undefined && this.#out === undefined) this.peerGone('the channel has no stream');
  }

  protected send(data: Buffer): void {
    if (this.#out === undefined || this.#out.destroyed || this.#out.writableEnded) throw new EndpointClosedError('cannot write: the channel has no open stream to write to');
    this.#out.write(data);
  }

  protected shut(): void {
    this.#in?.destroy();
    this.#out?.destroy();
  }
}

// For users' tests: put() feeds what read() returns, get() returns what was written
export class TestChannel extends BufferedChannel {
  #written: Buffer[] = [];

  put(data: Chunk): void {
    this.received(typeof data === 'string' ? Buffer.from(data) : Buffer.from(data));
  }

  // Everything written since the last get()
  get(): Buffer {
    const data = Buffer.concat(this.#written);
    this.#written = [];
    return data;
  }

  // The fake peer goes away
  end(): void {
    this.peerGone();
  }

  protected send(data: Buffer): void {
    this.#written.push(Buffer.from(data));
  }

  protected shut(): void {}
}

// Wraps another channel: read() returns one whole line (with its '\n') or an empty Buffer, and
// the trailing partial line once the peer has gone
export class LineChannel extends Channel {
  readonly inner: Channel;
  #buffer: Buffer = empty;
  #innerEnded = false;

  constructor(inner: Channel) {
    super();
    this.inner = inner;
    inner.onChange(() => this.changed());
  }

  read(): Buffer {
    if (!this.#innerEnded) {
      try {
        const data = this.inner.read();
        if (data.length > 0) this.#buffer = this.#buffer.length === 0 ? data : Buffer.concat([this.#buffer, data]);
      } catch (error) {
        if (!(error instanceof EndpointClosedError)) throw error;
        this.#innerEnded = true;
        if (this.#buffer.length === 0) throw error;
      }
    }
    const newline = this.#buffer.indexOf(10);
    let line: Buffer = empty;
    if (newline !== -1) line = this.#buffer.subarray(0, newline + 1);
    else if (this.#innerEnded) line = this.#buffer;
    if (line.length === 0 && this.#innerEnded) throw new EndpointClosedError('cannot read: the peer closed the channel');
    this.#buffer = this.#buffer.subarray(line.length);
    return line;
  }

  write(...chunks: Chunk[]): void {
    this.inner.write(...chunks);
  }

  close(): void {
    this.#buffer = empty;
    this.inner.close();
  }

  get ended(): boolean {
    return (this.#innerEnded || this.inner.ended) && this.#buffer.indexOf(10) === -1 && this.#buffer.length === 0;
  }
}
