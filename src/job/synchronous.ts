// SynchronousJob: run a function over a list, in parallel (runMultiProcessed) or as a plain
// loop in this process (runSingleProcessed), with the same results and error handling.
import { AbortError, OptionError, WorkerExitedError } from '../errors.js';
import { checkOption, isIterable, isPositiveInteger, knownOptions, optionKeys, resultsLogOptions } from '../options.js';
import type { DoneFuture, Future } from '../futures/future.js';
import { task, type ModuleRef, type Task } from '../futures/task.js';
import { waitFor } from '../futures/wait.js';
import type { Executor } from '../pool/executor.js';
import { InlineExecutor, type InlineCall } from '../pool/inline.js';
import type { ItemResult } from '../pool/items.js';
import { specExecutor } from '../pool/runtimes.js';
import { isResolvedSpec, resolveSpec, type ResolvedSpec } from '../spec/load.js';
import type { JobSpec } from '../spec/schema.js';
import { argsOption, isFuncOption, loggerOption } from './job-options.js';
import { onJobSignals } from './stop-signals.js';
import { LineWriter } from './line-writer.js';
import { logLine, openApiLog, type ResumeMatcher } from './results-log.js';
import { forwardOutput, preview } from './item-output.js';

export const synchronousJobOptionKeys = optionKeys<SynchronousJobOptions<unknown>>()(['func', 'items', 'args', 'processes', 'timeout', 'suppressWorkerExceptions', 'ordered', 'logger', 'signal', 'runtime', 'resultsLog', 'resume', 'redis']);
/** Options of SynchronousJob */
export interface SynchronousJobOptions<T, R = unknown> {
  /**
   * A function, a `{ module, name }` reference, or a job spec (cross-language); a function's
   * return type (awaited) is the type of the results
   */
  func: ((item: T, ...args: never[]) => R | PromiseLike<R>) | ModuleRef | JobSpec | ResolvedSpec;
  /** Any Iterable or AsyncIterable; read lazily, a few items per worker ahead */
  items: Iterable<T> | AsyncIterable<T>;
  /**
   * Extra arguments after the item: `func(item, ...args)`; a job spec's handler gets them as
   * `context.args` (then they must be JSON values)
   * @default []
   */
  args?: unknown[];
  /**
   * Workers (threads, or children for a job spec) at once
   * @default 4
   */
  processes?: number;
  /**
   * ms per item, from its start: a stuck item's worker is stopped and replaced, the item fails
   * with TimeoutError
   * @default no limit
   */
  timeout?: number;
  /**
   * A failed item leaves `undefined` in its slot, is logged once and recorded in `errors`;
   * false: the first failure rejects the run
   * @default false
   */
  suppressWorkerExceptions?: boolean;
  /**
   * Results in input order; false: in completion order
   * @default true
   */
  ordered?: boolean;
  /**
   * Where suppressed failures are logged: a function, or an object with an `error()` method
   * (console, a pino logger)
   * @default one line on stderr
   */
  logger?: ((message: string) => void) | { error(message: string): void };
  /**
   * Stops the job: every worker ends and the run rejects with an AbortError
   * @default none
   */
  signal?: AbortSignal;
  /**
   * For JavaScript functions: worker threads, or child processes (for native modules that
   * break in threads)
   * @default 'thread'
   */
  runtime?: 'thread' | 'process';
  /**
   * runMultiProcessed() appends each successful result to this file as a JSON line:
   * `{"index", "data", "value"}` (items and values must be JSON)
   * @default none: nothing is logged
   */
  resultsLog?: string;
  /**
   * With resultsLog: items with a result there (same index, same `JSON.stringify(item)`) are not
   * run again, their logged values fill their slots; failed items were not logged and run again.
   * false: the file is started anew
   * @default false
   */
  resume?: boolean;
  /**
   * Run the items on `polytask worker` processes over Redis, as task() does (docs/scale-out.md);
   * `processes` then only sets how many items are in flight (16 per process).
   * @default none: this machine
   */
  redis?: string;
}

export interface JobError<T> {
  index: number;
  item: T;
  error: Error;
}

// Items submitted ahead per worker: the pools batch or pipeline them (sized to about 10 ms
// of work), so that tiny items do not wait a round trip each; slow items are still shared
// among the workers one or two at a time. Items are read from the input this far ahead.
const inFlightPerWorker = 16;

export class SynchronousJob<T = unknown, R = unknown> {
  readonly errors: JobError<T>[] = [];
  readonly #options: SynchronousJobOptions<T, R>;
  readonly #processes: number;
  readonly #log: (message: string) => void;

  constructor(options: SynchronousJobOptions<T, R>) {
    knownOptions('SynchronousJob', options, synchronousJobOptionKeys);
    const func = checkOption('func', options.func, isFuncOption);
    checkOption('items', options.items, isIterable);
    argsOption(options.args, typeof func !== 'function' && !('module' in func));
    resultsLogOptions(options);
    this.#options = options;
    this.#processes = checkOption('processes', options.processes ?? 4, isPositiveInteger);
    this.#log = loggerOption(options.logger);
  }

  // Runs the items in parallel; resolves to the results
  async runMultiProcessed(): Promise<(R | undefined)[]> {
    const { items, args = [], timeout, ordered = true, runtime, redis } = this.#options;
    const spec = this.#spec();
    const size = redis === undefined ? (spec === undefined ? { concurrency: this.#processes } : { processes: this.#processes }) : { redis };
    const run = (spec === undefined
      ? task(this.#options.func as (...a: unknown[]) => unknown, { ...size, ...(timeout === undefined ? {} : { timeout }), ...(runtime === undefined ? {} : { runtime }) })
      : task(spec, { ...size, ...(timeout === undefined ? {} : { timeout }) })) as Task<unknown[], unknown>;
    const inFlight: Future<unknown>[] = [];
    const stop = new AbortController();
    const onSignal = () => stop.abort(new AbortError('the job was aborted', { cause: this.#options.signal?.reason }));
    // stopping cancels the calls in flight, which ends the wait for the next completion
    stop.signal.addEventListener('abort', () => {
      for (const f of inFlight) f.cancel();
    }, { once: true });
    this.#options.signal?.addEventListener('abort', onSignal, { once: true });
    const signals = onJobSignals((error) => stop.abort(error));
    const iterator = Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
    const positions = new Map<number, { index: number; item: T }>();
    const results: (R | undefined)[] = [];
    let next = 0;
    let exhausted = false;
    let matcher: ResumeMatcher | undefined;
    let writer: LineWriter | undefined;
    try {
      if (this.#options.resultsLog !== undefined) {
        const log = await openApiLog(this.#options.resultsLog, this.#options.resume ?? false, true);
        matcher = log.matcher;
        writer = new LineWriter(log.stream, () => {});
      }
      if (this.#options.signal?.aborted) onSignal();
      const waiting = waitFor(inFlight, this.#processes * inFlightPerWorker);
      for (;;) {
        if (stop.signal.aborted) throw stop.signal.reason;
        const step = await waiting.next();
        if (stop.signal.aborted) throw stop.signal.reason;
        if (step.done) break;
        const future: DoneFuture<unknown> | undefined = step.value;
        if (future === undefined) {
          if (exhausted) continue;
          let item = await iterator.next();
          // items with a result in the log fill their slots and take no worker
          for (let logged; !item.done && (logged = matcher?.match(next, () => JSON.stringify(item.value))) !== undefined; item = await iterator.next()) {
            if (ordered) results[next] = logged.value as R;
            else results.push(logged.value as R);
            next++;
          }
          if (item.done) {
            exhausted = true;
            matcher?.finish();
            continue;
          }
          const f = spec === undefined ? run(item.value, ...args) : run(item.value);
          positions.set(f.id, { index: next++, item: item.value });
          inFlight.push(f);
          continue;
        }
        const { index, item } = positions.get(future.id)!;
        positions.delete(future.id);
        const error = future.exception();
        // a handler's print()/console.log, captured with its result: shown as each item ends
        if (spec !== undefined) forwardOutput(error === undefined ? (future.result() as ItemResult) : (error as { result?: ItemResult }).result);
        if (error === undefined) {
          const value = spec === undefined ? future.result() : (future.result() as ItemResult).value;
          void writer?.write(logLine({ index, data: item, value }) ?? '');
          if (ordered) results[index] = value as R;
          else results.push(value as R);
        } else if (error instanceof WorkerExitedError && (error.signal === 'SIGINT' || error.signal === 'SIGTERM')) {
          // the Ctrl-C (or a SIGTERM to the process group) reached a worker process (one still
          // starting does not ignore it yet) before this process's own handler ran: the same stop
          signals.seen(error.signal);
          throw stop.signal.reason;
        } else if (this.#options.suppressWorkerExceptions) {
          this.#suppress(index, item, error);
          if (ordered) results[index] = undefined;
          else results.push(undefined);
        } else {
          throw error;
        }
      }
      return results;
    } finally {
      signals.remove();
      this.#options.signal?.removeEventListener('abort', onSignal);
      for (const f of inFlight) f.cancel();
      await run.close();
      await writer?.end(true);
    }
  }

  // Runs the items one after another in this process: breakpoints and `debugger` work, and
  // an exception propagates with its original stack. A job spec runs in one child attached
  // to the terminal, so that pdb.set_trace() or breakpoint() in a Python handler can be used.
  async runSingleProcessed(): Promise<(R | undefined)[]> {
    const { items, args = [], func } = this.#options;
    if (this.#options.resultsLog !== undefined) throw new OptionError('The `resultsLog` option is for runMultiProcessed(); runSingleProcessed() is for debugging');
    const spec = this.#spec();
    let executor: Executor<unknown>;
    let payload: (item: T) => unknown;
    if (spec === undefined) {
      const inline = new InlineExecutor();
      const call: InlineCall = typeof func === 'function'
        ? { target: { kind: 'source', source: '' }, args: [], fn: func as (...a: unknown[]) => unknown }
        : { target: { kind: 'module', url: moduleUrl(func as ModuleRef), name: (func as ModuleRef).name }, args: [] };
      // a module without the function fails the run at once, whatever suppressWorkerExceptions says
      call.fn ??= await inline.load(call);
      executor = inline;
      payload = (item) => ({ ...call, args: [item, ...args] });
    } else {
      // one child attached to the terminal: pdb.set_trace() or breakpoint() in a handler work
      executor = specExecutor(spec, { processes: 1, pipeline: 1, attachTerminal: true });
      payload = (item) => item;
    }
    const results: (R | undefined)[] = [];
    let index = 0;
    try {
      await executor.start();
      for await (const item of items) {
        try {
          const value = await executor.run(payload(item));
          results.push((spec === undefined ? value : (value as ItemResult).value) as R);
        } catch (error) {
          this.#failSingle(index, item, error as Error, results);
        }
        index++;
      }
    } finally {
      await executor.close();
    }
    return results;
  }

  #failSingle(index: number, item: T, error: Error, results: (R | undefined)[]): void {
    if (!this.#options.suppressWorkerExceptions) throw error;
    this.#suppress(index, item, error);
    results.push(undefined);
  }

  #suppress(index: number, item: T, error: Error): void {
    this.errors.push({ index, item, error });
    this.#log(`polytask: item ${index} (${preview(item)}) failed: ${error.name}: ${error.message}`);
  }

  #spec(): ResolvedSpec | undefined {
    const { func } = this.#options;
    if (typeof func === 'function' || 'module' in func) return undefined;
    const spec = isResolvedSpec(func) ? func : resolveSpec(func);
    const { args } = this.#options;
    return args === undefined ? spec : { ...spec, handlerArgs: args };
  }
}

// A module reference as a URL import() takes
function moduleUrl(ref: ModuleRef): string {
  return ref.module instanceof URL ? ref.module.href : ref.module;
}
