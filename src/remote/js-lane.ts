// A worker's local lane for JavaScript calls: each line from a job is decoded (a module call
// under --module-root, or inline code whose signature checks out) and run on a ThreadPool; its
// value or error goes back as the result's JSON, as a spec's child would write it.
import { availableParallelism } from 'node:os';
import { errorInfo } from '../errors.js';
import type { RawOptions, RawResultCallback } from '../pool/items.js';
import type { PoolStats } from '../pool/process/stats.js';
import { ThreadPool } from '../pool/thread/pool.js';
import { exitCodes } from '../protocol/exit-codes.js';
import { decodeCall, type JsAccept } from './js-calls.js';
import { RemoteStats } from './stats.js';

export class JsLane {
  readonly processes: number;
  readonly #pool: ThreadPool;
  readonly #accept: JsAccept;
  readonly #stats = new RemoteStats();

  constructor(accept: JsAccept, processes = availableParallelism()) {
    this.processes = processes;
    this.#accept = accept;
    this.#pool = new ThreadPool({ runtime: 'thread', concurrency: processes });
  }

  /** Yes: a line that is not JSON fails only its own call (decodeCall) */
  readonly decodesEachItem = true;

  start(): Promise<void> {
    return this.#pool.start();
  }

  submitRaw(line: string, done: RawResultCallback, options: RawOptions = {}): void {
    const sentAt = performance.now();
    const answer = (exit: number, fields: object) => {
      const rest = JSON.stringify(fields).slice(1);
      this.#stats.answered(exit, rest, performance.now() - sentAt);
      done({ exit, rest, attempts: 1 });
    };
    const fail = (error: unknown) => {
      const info = errorInfo(error);
      const exit = info.name === 'TimeoutError' ? exitCodes.timeout : info.name === 'AbortError' ? exitCodes.interrupted : exitCodes.itemFailed;
      answer(exit, { error: info });
    };
    let call;
    try {
      call = decodeCall(line, this.#accept);
    } catch (error) {
      return fail(error);
    }
    if (call instanceof Error) return fail(call);
    this.#pool.submit(call, {
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(options.onAbort === undefined ? {} : { onAbort: options.onAbort }),
      ...(options.onStart === undefined ? {} : { onStart: options.onStart }),
      resolve: (value) => {
        let fields: object;
        try {
          // JSON carries the value back: undefined becomes null, as in a JSON array
          JSON.stringify({ value });
          fields = { value: value === undefined ? null : value };
        } catch (error) {
          return answer(exitCodes.dataError, { error: { name: 'SerializationError', message: `the return value cannot be sent as JSON: ${errorInfo(error).message}` } });
        }
        answer(0, fields);
      },
      reject: fail,
    });
  }

  stats(): PoolStats {
    return this.#stats.snapshot();
  }

  readyInfo(): string {
    return `node ${process.version}, ${this.processes} worker threads ready`;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
