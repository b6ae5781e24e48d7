// task(): turns a function, a module export or a job spec into a function whose calls
// return Futures, run in worker threads, child processes or the cross-language pool.
import { availableParallelism } from 'node:os';
import { OptionError, TimeoutError, WorkerExitedError } from '../errors.js';
import { checkOption, checkOptions, isOneOf, isPositiveInteger, isSignal, knownOptions, optionKeys, positiveInteger } from '../options.js';
import type { Executor, Receiver } from '../pool/executor.js';
import type { InlineCall } from '../pool/inline.js';
import type { ItemResult } from '../pool/items.js';
import { RetryPolicy, retryOptionKeys, type RetryOn, type RetryOptions } from '../pool/retry.js';
import { jsExecutor, remoteJsExecutor, sharedJsExecutor, specExecutor, type JsRuntime } from '../pool/runtimes.js';
import { isResolvedSpec, resolveSpec, type ResolvedSpec } from '../spec/load.js';
import type { JobSpec } from '../spec/schema.js';
import { Future } from './future.js';

export const taskOptionKeys = optionKeys<TaskOptions>()([...retryOptionKeys, 'concurrency', 'processes', 'timeout', 'signal', 'runtime', 'maxMemoryMb', 'maxOldGenerationSizeMb', 'concurrentTasksPerWorker', 'redis', 'moduleRoot']);
/** Options of task() */
export interface TaskOptions extends RetryOptions {
  /**
   * Calls at once: workers, or children for a spec. With neither this nor `processes` (nor
   * another option that needs a pool of its own), JavaScript tasks share a default pool per
   * runtime.
   * @default os.availableParallelism()
   */
  concurrency?: number;
  /**
   * The same as concurrency.
   * @default os.availableParallelism()
   */
  processes?: number;
  /**
   * ms per call, from its start: the worker is stopped and replaced, the future fails with
   * TimeoutError.
   * @default no limit
   */
  timeout?: number;
  /**
   * Cancels every call of this task that has not finished: each future rejects with a
   * CancelledError (an AbortError) whose `cause` is the signal's reason.
   * @default none
   */
  signal?: AbortSignal;
  /**
   * Where a JavaScript task runs: 'thread', 'process' (for native modules that break in
   * threads), or 'inline' (this thread, one call at a time: for debugging).
   * @default 'thread'
   */
  runtime?: JsRuntime;
  /**
   * Job specs: a child is replaced, between items, once its resident memory is above this many
   * MB (no item fails for it). For a JavaScript worker's heap limit, see maxOldGenerationSizeMb.
   * @default no limit
   */
  maxMemoryMb?: number;
  /**
   * JavaScript tasks: heap limit of each worker in MB; a call that needs more fails with
   * WorkerExitedError and its worker is replaced. Gives the task a pool of its own.
   * @default Node's own limit
   */
  maxOldGenerationSizeMb?: number;
  /**
   * JavaScript tasks: calls one worker may have waiting on a promise at once. A call that
   * returns a promise (an async function waiting on I/O) lets its worker start the next call
   * meanwhile; a call that returns a plain value holds its worker until it returns. 1: the
   * calls of a worker never overlap. Gives the task a pool of its own.
   * @default 16
   */
  concurrentTasksPerWorker?: number;
  /**
   * The calls run on `polytask worker` processes over Redis (docs/scale-out.md):
   * `redis://[user:password@]host:port[/db]`, `rediss://...` or `redis+unix:///path`. A module
   * task goes to workers started with `--module-root` on a copy of its module root; a function
   * goes, signed with the secret in POLYTASK_SECRET, to workers started with `--allow-inline`.
   * Arguments and results cross as JSON.
   * @default none: this machine
   */
  redis?: string;
  /**
   * With `redis`, a module task: the folder whose copy the workers serve (`--module-root`); the
   * module must be under it.
   * @default the module's own folder
   */
  moduleRoot?: string;
}

export interface ModuleRef {
  module: string | URL;
  name: string;
}

export const callOptionKeys = optionKeys<CallOptions>()(['signal', 'timeout']);
/** Options of one call: `t.with({ signal })(...args)` */
export interface CallOptions {
  /**
   * Cancels this call (as `future.cancel(signal.reason)`): the future rejects with a
   * CancelledError (an AbortError) whose `cause` is the signal's reason.
   * @default none (the task's `signal` still applies)
   */
  signal?: AbortSignal;
  /**
   * ms for this call, from its start, instead of the task's `timeout`
   * @default the task's `timeout`
   */
  timeout?: number;
}

export interface Task<A extends unknown[], R> {
  (...args: A): Future<R>;
  /** The same call with options of its own, as piscina's `run(x, { signal })` */
  with(options: CallOptions): (...args: A) => Future<R>;
  // the executor that runs the calls
  readonly pool: Executor<unknown>;
  // ends the task's own pool (the shared default pools need no closing)
  close(): Promise<void>;
  // `await using t = task(...)`: close() at the end of the block
  [Symbol.asyncDispose](): Promise<void>;
}

export function task<A extends unknown[], R>(fn: (...args: A) => R, options?: TaskOptions): Task<A, Awaited<R>>;
export function task<A extends unknown[] = unknown[], R = unknown>(ref: ModuleRef, options?: TaskOptions): Task<A, R>;
export function task(spec: JobSpec | ResolvedSpec, options?: TaskOptions): Task<[item: unknown], ItemResult>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one body for the three overloads
export function task(target: ((...args: never[]) => unknown) | ModuleRef | JobSpec | ResolvedSpec, options: TaskOptions = {}): Task<any[], any> {
  knownOptions('task()', options, taskOptionKeys);
  checkOptions(options, { signal: isSignal });
  const retry = new RetryPolicy(options);
  const timeout = options.timeout === undefined ? undefined : positiveInteger('timeout', options.timeout);
  const size = options.concurrency ?? options.processes;
  if (size !== undefined) positiveInteger(options.concurrency === undefined ? 'processes' : 'concurrency', size);
  const runtime = checkOption('runtime', options.runtime ?? 'thread', isOneOf(['thread', 'process', 'inline']));
  if (options.moduleRoot !== undefined && (options.redis === undefined || !isModuleRef(target))) throw new OptionError('The `moduleRoot` option is for a module task with `redis`');

  let executor: Executor<unknown>;
  let owned: boolean;
  let payload: (args: unknown[]) => unknown;
  if (typeof target === 'function' || isModuleRef(target)) {
    if (options.maxMemoryMb !== undefined) throw new OptionError('The `maxMemoryMb` option is for job specs (a child is replaced above it); a JavaScript task\'s heap limit is `maxOldGenerationSizeMb`');
    const fn = typeof target === 'function' ? target as (...args: unknown[]) => unknown : undefined;
    const jsTarget: InlineCall['target'] = fn !== undefined
      ? { kind: 'source', source: fn.toString() }
      : { kind: 'module', url: String((target as ModuleRef).module instanceof URL ? ((target as ModuleRef).module as URL).href : (target as ModuleRef).module), name: (target as ModuleRef).name };
    const heapMb = options.maxOldGenerationSizeMb === undefined ? undefined : positiveInteger('maxOldGenerationSizeMb', options.maxOldGenerationSizeMb);
    const perWorker = options.concurrentTasksPerWorker;
    owned = size !== undefined || heapMb !== undefined || perWorker !== undefined || options.redis !== undefined;
    if (options.redis !== undefined) {
      for (const local of ['concurrency', 'processes', 'maxOldGenerationSizeMb', 'concurrentTasksPerWorker', 'runtime'] as const) {
        if (options[local] !== undefined) throw new OptionError(`${local}: set on the workers (polytask worker), not on a task with \`redis\``);
      }
      executor = remoteJsExecutor({ target: jsTarget, args: [] }, { redis: options.redis, ...(timeout === undefined ? {} : { timeout }), ...(options.moduleRoot === undefined ? {} : { moduleRoot: options.moduleRoot }) }) as Executor<unknown>;
    } else {
      executor = (owned
        ? jsExecutor(runtime, { concurrency: size ?? availableParallelism(), ...(heapMb === undefined ? {} : { maxOldGenerationSizeMb: heapMb }), ...(perWorker === undefined ? {} : { concurrentTasksPerWorker: perWorker }) })
        : sharedJsExecutor(runtime)) as Executor<unknown>;
    }
    // the inline runtime calls the function itself: breakpoints and closures work
    payload = (args): InlineCall => ({ target: jsTarget, args, fn: runtime === 'inline' ? fn : undefined });
  } else {
    const spec = isResolvedSpec(target) ? target : resolveSpec(target);
    owned = true;
    const memory = options.maxMemoryMb;
    executor = (options.redis !== undefined
      ? specExecutor(spec, { redis: options.redis, ...(timeout === undefined ? {} : { timeout }), ...(size === undefined ? {} : { processes: size }), ...(memory === undefined ? {} : { maxMemoryMb: memory }) })
      : specExecutor(spec, { keepAlive: false, ...(size === undefined ? {} : { processes: size }), ...(timeout === undefined ? {} : { timeout }), ...(memory === undefined ? {} : { maxMemoryMb: memory }) })) as Executor<unknown>;
    payload = (args) => args[0];
  }

  // the futures not done, kept only to cancel them when the task's signal aborts
  const signal = options.signal;
  const live = signal === undefined ? undefined : new Set<Future<unknown>>();
  signal?.addEventListener('abort', () => {
    for (const future of live!) future.cancel(signal.reason);
  }, { once: true });

  const submit = (args: unknown[], own: CallOptions | undefined): Future<unknown> => {
    const future = new Future<unknown>(args);
    const aborted = signal?.aborted === true ? signal : own?.signal?.aborted === true ? own.signal : undefined;
    if (aborted !== undefined) {
      future.cancel(aborted.reason);
      return future;
    }
    live?.add(future);
    const callSignal = own?.signal;
    if (callSignal !== undefined) {
      const cancel = () => future.cancel(callSignal.reason);
      callSignal.addEventListener('abort', cancel, { once: true });
      const forget = () => callSignal.removeEventListener('abort', cancel);
      future.then(forget, forget);
    }
    new Run(executor, payload(args), future, own?.timeout ?? timeout, retry, live).attempt();
    return future;
  };
  const call = (...args: unknown[]): Future<unknown> => submit(args, undefined);
  const withOptions = (own: CallOptions) => {
    knownOptions('task().with()', own, callOptionKeys);
    checkOptions(own, { signal: isSignal, timeout: isPositiveInteger });
    return (...args: unknown[]): Future<unknown> => submit(args, own);
  };
  const close = () => (owned ? executor.close() : Promise.resolve());
  return Object.assign(call, { pool: executor, with: withOptions, close, [Symbol.asyncDispose]: close });
}

// One call on the executor, run again after a failure the retry policy allows (after its delay),
// until it succeeds, fails for good, or is cancelled. It is its own Receiver: the future's
// cancel reaches the executor, and the answer comes back, without another object or closure.
class Run implements Receiver<unknown> {
  readonly #executor: Executor<unknown>;
  readonly #payload: unknown;
  readonly #future: Future<unknown>;
  readonly timeout: number | undefined;
  readonly #retry: RetryPolicy;
  #retried = 0;
  readonly #live: Set<Future<unknown>> | undefined;

  constructor(executor: Executor<unknown>, payload: unknown, future: Future<unknown>, timeout: number | undefined, retry: RetryPolicy, live: Set<Future<unknown>> | undefined) {
    this.#executor = executor;
    this.#payload = payload;
    this.#future = future;
    this.timeout = timeout;
    this.#retry = retry;
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
    try {
      this.#executor.submit(this.#payload, this);
    } catch (error) {
      this.reject(error);
    }
  }

  resolve(value: unknown): void {
    this.#future.setResult(value);
    this.#live?.delete(this.#future);
  }

  reject(error: unknown): void {
    const future = this.#future;
    if (future.cancelled()) {
      this.#live?.delete(future);
      return;
    }
    const delay = this.#retry.delayFor(failureKind(error), this.#retried);
    if (delay !== undefined) {
      this.#retried++;
      setTimeout(() => (future.cancelled() ? this.#live?.delete(future) : this.attempt()), delay);
      return;
    }
    future.setException(error instanceof Error ? error : new Error(String(error)));
    this.#live?.delete(future);
  }
}

// What a failed call's error says of the retry it may get
function failureKind(error: unknown): RetryOn {
  if (error instanceof WorkerExitedError) return 'crash';
  if (error instanceof TimeoutError) return 'timeout';
  return 'error';
}

function isModuleRef(value: unknown): value is ModuleRef {
  return typeof value === 'object' && value !== null && 'module' in value && 'name' in value;
}
