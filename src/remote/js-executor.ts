// JavaScript calls (a function's source, or a module export) run by `polytask worker` processes
// over Redis: the remote executor of items, with calls encoded for a JavaScript worker and the
// call's value (not an item result) as the answer. task(fn | {module, name}, { redis }) uses it.
import { errorInfo } from '../errors.js';
import { exitCodes } from '../protocol/exit-codes.js';
import { runOn, type CloseOptions, type Executor, type Receiver, type RunOptions } from '../pool/executor.js';
import type { InlineCall } from '../pool/inline.js';
import type { ItemResult } from '../pool/items.js';
import { RemoteExecutor, type RemoteOptions } from './executor.js';
import { jsRoute } from './js-calls.js';

export class RemoteJsExecutor implements Executor<InlineCall, unknown> {
  readonly #items: RemoteExecutor;

  /** `sample`: a call of the task, which fixes the queue (its module root, or the inline one) */
  constructor(sample: InlineCall, options: RemoteOptions & { moduleRoot?: string | undefined }) {
    const { moduleRoot, ...rest } = options;
    const route = jsRoute(sample, moduleRoot);
    const encode = (call: unknown): string | ItemResult => {
      try {
        return route.encode(call as InlineCall);
      } catch (error) {
        return { exit: exitCodes.dataError, error: { name: 'SerializationError', message: `the arguments cannot be sent as JSON: ${errorInfo(error).message}` }, stdout: '', stderr: '' };
      }
    };
    this.#items = new RemoteExecutor({ queue: route.queue, serves: route.serves, encode }, rest);
  }

  get queue(): string {
    return this.#items.queue;
  }

  get capacity(): number {
    return this.#items.capacity;
  }

  start(): Promise<void> {
    return this.#items.start();
  }

  submit(call: InlineCall, receiver: Receiver<unknown>): void {
    // the receiver's methods are called on it (a Future's use `this`)
    const inner: Receiver<ItemResult> = {
      signal: receiver.signal,
      timeout: receiver.timeout,
      ...(receiver.onAbort === undefined ? {} : { onAbort: (listener: () => void) => receiver.onAbort!(listener) }),
      ...(receiver.onStart === undefined ? {} : { onStart: () => receiver.onStart!() }),
      resolve: (result) => receiver.resolve(result.value),
      reject: (error) => receiver.reject(error),
    };
    this.#items.submit({ target: call.target, args: call.args }, inner);
  }

  run(call: InlineCall, options?: RunOptions): Promise<unknown> {
    return runOn(this, call, options);
  }

  close(options?: CloseOptions): Promise<void> {
    return this.#items.close(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
