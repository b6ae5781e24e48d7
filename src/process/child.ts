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

const toParentFd = 4;
const fromParentFd = 3;

class Parent {
  #input: net.Socket | undefined;
  readonly #reader = new FrameReader();
  readonly #values: unknown[] = [];
  readonly #waiters: { resolve: (value: unknown) => void; reject: (error: Error) => void }[] = [];
  #ended: EndpointClosedError | undefined;

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
    if (this.#values.length > 0) return Promise.resolve(this.#values.shift());
    if (this.#ended !== undefined) return Promise.reject(this.#ended);
    // a pending recv() keeps the process alive; otherwise the input does not
    this.#input!.ref();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #open(): void {
    if (this.#input !== undefined) return;
    const input = new net.Socket({ fd: fromParentFd, readable: true, writable: false });
    this.#input = input;
    input.on('data', (chunk: Buffer) => {
      for (const value of this.#reader.push(chunk)) {
        const waiter = this.#waiters.shift();
        if (waiter !== undefined) waiter.resolve(value);
        else this.#values.push(value);
      }
      // the parent's frames are encoded by encodeFrame: a bad one is a bug, not to be hidden
      if (this.#reader.error !== undefined) throw this.#reader.error;
      if (this.#waiters.length === 0) input.unref();
    });
    input.on('error', () => {});
    input.once('close', () => {
      const midFrame = this.#reader.pending > 0;
      this.#ended = new EndpointClosedError(midFrame
        ? `the parent closed the channel mid-frame (${this.#reader.describePending()})`
        : 'the parent closed the channel');
      const ended = this.#ended;
      // (a rejected top-level await arrives as an uncaught exception)
      const quietEnd = (error: unknown) => {
        if (error === ended && !midFrame) process.exit(0);
        // anything else ends the process as it would have without this listener
        process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
      };
      process.on('unhandledRejection', quietEnd);
      process.on('uncaughtException', quietEnd);
      for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#ended);
    });
  }
}

export const parent = new Parent();
export { EndpointClosedError };
