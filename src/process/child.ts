// The Node side of Instance: `import { parent } from 'polytask/child'` in the child.
//   parent.send(value)      writes one JSON value to the parent (synchronously: it is out
//                           before the process can exit)
//   await parent.recv()     the next value from the parent; rejects with an Error named
//                           EndpointClosedError when the parent has closed the channel.
//                           Left unhandled (and not mid-frame), that rejection ends the
//                           process quietly with status 0, as in the Python helper.
import { writeSync } from 'node:fs';
import net from 'node:net';
import { EndpointClosedError } from '../errors.js';
import { encodeFrame, FrameReader } from './frames.js';
import { ValueQueue } from './value-queue.js';

const toParentFd = 4;
const fromParentFd = 3;

class Parent {
  #input: net.Socket | undefined;
  readonly #reader = new FrameReader();
  readonly #values = new ValueQueue<unknown>();

  send(value: unknown): void {
    const frame = encodeFrame(value);
    let offset = 0;
    while (offset < frame.length) {
      try {
        offset += writeSync(toParentFd, frame, offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw new EndpointClosedError(`cannot send to the parent: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  recv(): Promise<unknown> {
    this.#open();
    const value = this.#values.take();
    // a pending recv() keeps the process alive; otherwise the input does not
    if (this.#values.waiting > 0) this.#input!.ref();
    return value;
  }

  #open(): void {
    if (this.#input !== undefined) return;
    const input = new net.Socket({ fd: fromParentFd, readable: true, writable: false });
    this.#input = input;
    input.on('data', (chunk: Buffer) => {
      for (const value of this.#reader.push(chunk)) this.#values.push(value);
      // the parent's frames are encoded by encodeFrame: a bad one is a bug, not to be hidden
      if (this.#reader.error !== undefined) throw this.#reader.error;
      if (this.#values.waiting === 0) input.unref();
    });
    input.on('error', () => {});
    input.once('close', () => {
      const midFrame = this.#reader.pending > 0;
      const ended = new EndpointClosedError(midFrame
        ? `the parent closed the channel mid-frame (${this.#reader.describePending()})`
        : 'the parent closed the channel');
      // (a rejected top-level await arrives as an uncaught exception)
      const quietEnd = (error: unknown) => {
        if (error === ended && !midFrame) process.exit(0);
        // anything else ends the process as it would have without this listener
        process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
      };
      process.on('unhandledRejection', quietEnd);
      process.on('uncaughtException', quietEnd);
      this.#values.end(ended);
    });
  }
}

export const parent = new Parent();
export { EndpointClosedError };
