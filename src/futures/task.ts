// task(): turns a function, a module export or a job spec into a function whose calls
// return Futures, run in worker threads, child processes or the cross-language pool.
import { availableParallelism } from 'node:os';
import { OptionError, TimeoutError, WorkerExitedError } from '../errors.js';
import { knownOptions, nonNegativeInteger, optionKeys, positiveInteger } from '../options.js';
import type { Executor, RunOptions } from '../pool/executor.js';
import type { ItemResult } from '../pool/process-pool.js';
import { ThreadPool, type JsCall, type JsTarget } from '../pool/thread-pool.js';
import { isResolvedSpec, resolveSpec, type ResolvedSpec } from '../spec/load.js';
import type { JobSpec } from '../spec/schema.js';
import { Future } from './future.js';
import { SpecExecutor } from './spec-executor.js';

export const taskOptionKeys = optionKeys<TaskOptions>()(['concurrency', 'processes', 'timeout', 'signal', 'retries', 'runtime', 'maxMemoryMb', 'concurrentTasksPerWorker']);
export interface TaskOptions {
  // calls at once: threads, or children for a spec (default: the number of CPUs). With
  // neither this nor `processes`, JavaScript tasks share a default pool per runtime.
  concurrency?: number;
  // the same as concurrency
  processes?: number;
  // ms per call: the worker is stopped and replaced, the future fails with TimeoutError
  timeout?: number;
  // cancels every call of this task that has not finished
  signal?: AbortSignal;
  // runs a call again (up to this many times) after its worker died or it timed out
  retries?: number;
  // where a JavaScript task runs: 'thread' (default) or 'process' (for native modules that break in threads)
  runtime?: 'thread' | 'process';
  // heap limit of each JavaScript worker in MB: a call that needs more fails with
  // WorkerExitedError and its worker is replaced (gives the task a pool of its own)
  maxMemoryMb?: number;
  /**
   * JavaScript tasks: calls one worker may have waiting on a promise at once. A call that
   * returns a promise (an async function waiting on I/O) lets its worker start the next call
   * meanwhile; a call that returns a plain value holds its worker until it returns. 1: the
   * calls of a worker never overlap. Gives the task a pool of its own.
   * @default 16
   */
  concurrentTasksPerWorker?: number;
}

export interface ModuleRef {
  module: string | URL;
  name: string;
}

export interface Task<A extends unknown[], R> {
  (...args: A): Future<R>;
  // the executor that runs the calls
  readonly pool: Executor<unknown>;
  // ends the task's own pool (the shared default pools need no closing)
  close(): Promise<void>;
}

const defaultPools = new Map<'thread' | 'process', ThreadPool>();

// The shared pool of a runtime, created on first use; idle workers do not keep the process alive
function defaultPool(runtime: 'thread' | 'process'): ThreadPool {
  let pool = defaultPools.get(runtime);
  if (pool === undefined) {
    pool = new ThreadPool({ runtime });
    defaultPools.set(runtime, pool);
  }
  return pool;
}

export function task<A extends unknown[], R>(fn: (...args: A) => R, options?: TaskOptions): Task<A, Awaited<R>>;
export function task<A extends unknown[] = unknown[], R = unknown>(ref: ModuleRef, options?: TaskOptions): Task<A, R>;
export function task(spec: JobSpec | ResolvedSpec, options?: TaskOptions): Task<[item: unknown], ItemResult>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one body for the three overloads
export function task(target: ((...args: never[]) => unknown) | ModuleRef | JobSpec | ResolvedSpec, options: TaskOptions = {}): Task<any[], any> {
  knownOptions('task()', options, taskOptionKeys);
  const retries = nonNegativeInteger('retries', options.retries ?? 0);
  const timeout = options.timeout === undefined ? undefined : positiveInteger('timeout', options.timeout);
  const size = options.concurrency ?? options.processes;
  if (size !== undefined) positiveInteger(options.concurrency === undefined ? 'processes' : 'concurrency', size);
  const runtime = options.runtime ?? 'thread';
  if (runtime !== 'thread' && runtime !== 'process') throw new OptionError(`Expected the \`runtime\` option to be "thread" or "process", got \`${String(runtime)}\``);

  let executor: Executor<unknown>;
  let owned: boolean;
  let payload: (args: unknown[]) => unknown;
  if (typeof target === 'function' || isModuleRef(target)) {
    const jsTarget: JsTarget = typeof target === 'function'
      ? { kind: 'source', source: target.toString() }
      : { kind: 'module', url: String(target.module instanceof URL ? target.module.href : target.module), name: target.name };
    const memory = options.maxMemoryMb === undefined ? undefined : positiveInteger('maxMemoryMb', options.maxMemoryMb);
    const perWorker = options.concurrentTasksPerWorker;
    owned = size !== undefined || memory !== undefined || perWorker !== undefined;
    executor = (owned
      ? new ThreadPool({ runtime, concurrency: size ?? availableParallelism(), ...(memory === undefined ? {} : { maxOldGenerationSizeMb: memory }), ...(perWorker === undefined ? {} : { concurrentTasksPerWorker: perWorker }) })
      : defaultPool(runtime)) as Executor<unknown>;
    payload = (args): JsCall => ({ target: jsTarget, args });
  } else {
    const spec = isResolvedSpec(target) ? target : resolveSpec(target);
    owned = true;
    executor = new SpecExecutor(spec, { keepAlive: false, ...(size === undefined ? {} : { processes: size }), ...(timeout === undefined ? {} : { timeout }) });
    payload = (args) => args[0];
  }

  // the futures not done, kept only to cancel them when the task's signal aborts
  const signal = options.signal;
  const live = signal === undefined ? undefined : new Set<Future<unknown>>();
  signal?.addEventListener('abort', () => {
    for (const future of live!) future.cancel();
  }, { once: true });

  const call = (...args: unknown[]): Future<unknown> => {
    const future = new Future<unknown>(args);
    if (signal?.aborted) {
      future.cancel();
      return future;
    }
    live?.add(future);
    new Run(executor, payload(args), future, timeout, retries, live).attempt();
    return future;
  };
  return Object.assign(call, {
    pool: executor,
    close: () => (owned ? executor.close() : Promise.resolve()),
  });
}

// One call on the executor, run again after a dead worker or a timeout while retries are
// left, until it succeeds, fails for good, or is cancelled. It is its own RunOptions: the
// future's signal and cancel reach the executor without another options object and closures.
class Run implements RunOptions {
  readonly #executor: Executor<unknown>;
  readonly #payload: unknown;
  readonly #future: Future<unknown>;
  readonly timeout: number | undefined;
  #retriesLeft: number;
  readonly #live: Set<Future<unknown>> | undefined;

  constructor(executor: Executor<unknown>, payload: unknown, future: Future<unknown>, timeout: number | undefined, retries: number, live: Set<Future<unknown>> | undefined) {
    this.#executor = executor;
    this.#payload = payload;
    this.#future = future;
    this.timeout = timeout;
    this.#retriesLeft = retries;
    this.#live = live;
  }

  // made only if the executor asks for it
  get signal(): AbortSignal {
    return this.#future.signal;
  }

  onAbort(listener: () => void): () => void {
    return this.#future.onAbort(listener);
  }

  onStart(): void {
    this.#future.setRunning();
  }

  attempt(): void {
    let pending: Promise<unknown>;
    try {
      pending = this.#executor.run(this.#payload, this);
    } catch (error) {
      this.#failed(error);
      return;
    }
    pending.then((value) => this.#succeeded(value), (error: unknown) => this.#failed(error));
  }

  #succeeded(value: unknown): void {
    this.#future.setResult(value);
    this.#live?.delete(this.#future);
  }

  #failed(error: unknown): void {
    const future = this.#future;
    if (!future.cancelled()) {
      if ((error instanceof WorkerExitedError || error instanceof TimeoutError) && this.#retriesLeft > 0) {
        this.#retriesLeft--;
        this.attempt();
        return;
      }
      future.setException(error instanceof Error ? error : new Error(String(error)));
    }
    this.#live?.delete(future);
  }
}

function isModuleRef(value: unknown): value is ModuleRef {
  return typeof value === 'object' && value !== null && 'module' in value && 'name' in value;
}
