// JobRunner: the stream API over a job spec's executor (the cross-language pool).
//
//   const runner = new JobRunner(spec, items, { processes: 2 });
//   const [ok, err] = await runner.setup();
//   for await (const r of runner.run()) console.log(r.exit, r.data, r.stdout);
import { OptionError, PolytaskError } from '../errors.js';
import { checkOptions, isFunction, isPositiveInteger, iterable, knownOptions, optionKeys, pickOptions, resultsLogOptions } from '../options.js';
import { LineWriter } from './line-writer.js';
import { resultOf, type ItemExecutor, type ItemResult } from '../pool/items.js';
import { poolOptionKeys, type PoolOptions } from '../pool/process/options.js';
import { specExecutor } from '../pool/runtimes.js';
import { resolveSpec, type ResolvedSpec } from '../spec/load.js';
import type { JobSpec } from '../spec/schema.js';
import { streamResults } from './stream.js';
import { logLine, openApiLog, type ResumeMatcher } from './results-log.js';
import { ProgressMeter, type ProgressCallback } from './progress.js';

const executorKeys = [...poolOptionKeys, 'redis', 'redisTimeout'] as const;
export const jobRunnerOptionKeys = optionKeys<JobRunnerOptions>()([...executorKeys, 'ordered', 'signal', 'resultsLog', 'resume', 'onProgress', 'progressInterval', 'total']);
/** Options of JobRunner: its pool's options, and these */
export interface JobRunnerOptions extends PoolOptions {
  /**
   * Run the items on `polytask worker` processes over Redis instead of local children:
   * `redis://[user:password@]host:port[/db]`, `rediss://...` or `redis+unix:///path` (docs/scale-out.md).
   * The local pool's options (processes, pipeline, ...) are then the workers' own.
   * @default none: local children
   */
  redis?: string;
  /**
   * With `redis`: ms Redis may be unreachable before the run fails.
   * @default 30000
   */
  redisTimeout?: number;
  /**
   * Results in input order instead of completion order
   * @default false
   */
  ordered?: boolean;
  /**
   * Stops the run: children are ended and run() throws an AbortError
   * @default none
   */
  signal?: AbortSignal;
  /**
   * Appends every result to this file as a JSON line, as it comes: `{"index", "data", "exit", ...}`
   * @default none: nothing is logged
   */
  resultsLog?: string;
  /**
   * With resultsLog: skip the items that already have a final result there (same index, same
   * `JSON.stringify(item)`) and append the others; false: the file is started anew
   * @default false
   */
  resume?: boolean;
  /**
   * Called with the counts every `progressInterval` ms while they change, and once at the end
   * @default none
   */
  onProgress?: ProgressCallback;
  /**
   * ms between onProgress calls
   * @default 1000
   */
  progressInterval?: number;
  /**
   * The number of items, for onProgress's total and ETA
   * @default the length of an array, else unknown
   */
  total?: number;
}

// One item's result, with the item as given and its 0-based position in the input
export interface JobResult<T = unknown> extends ItemResult {
  data: T;
  index: number;
}

export class JobRunner<T = unknown> {
  readonly spec: ResolvedSpec;
  /** The executor that runs the items */
  readonly pool: ItemExecutor;
  readonly #items: Iterable<T> | AsyncIterable<T>;
  readonly #options: JobRunnerOptions;
  #ran = false;

  constructor(spec: JobSpec | ResolvedSpec, items: Iterable<T> | AsyncIterable<T>, options: JobRunnerOptions = {}) {
    knownOptions('JobRunner', options, jobRunnerOptionKeys);
    iterable('items', items);
    resultsLogOptions(options);
    checkOptions(options, { onProgress: isFunction, progressInterval: isPositiveInteger });
    this.spec = resolveSpec(spec);
    this.pool = specExecutor(this.spec, pickOptions(options, executorKeys));
    this.#items = items;
    this.#options = options;
  }

  // Starts the children and runs the setup hook in each; never throws
  async setup(): Promise<[true, null] | [false, Error]> {
    try {
      await this.pool.start();
      return [true, null];
    } catch (error) {
      return [false, error as Error];
    }
  }

  // Yields one result per item (on resume, the items already in the log are skipped: their
  // results are there); leaving the loop early ends the children
  async *run(): AsyncGenerator<JobResult<T>, void, undefined> {
    for await (const batch of this.runBatches()) yield* batch;
  }

  // Same as run(), a batch of ready results at a time (cheaper per item)
  async *runBatches(): AsyncGenerator<JobResult<T>[], void, undefined> {
    if (this.#ran) throw new OptionError('run() can be called once per JobRunner');
    this.#ran = true;
    const { resultsLog, resume = false, onProgress, progressInterval, total } = this.#options;
    let writer: LineWriter | undefined;
    let writeError: Error | undefined;
    let meter: ProgressMeter | undefined;
    try {
      let matcher: ResumeMatcher | undefined;
      if (resultsLog !== undefined) {
        const log = await openApiLog(resultsLog, resume);
        matcher = log.matcher;
        writer = new LineWriter(log.stream, (error) => (writeError ??= error));
      }
      const items = this.#items;
      if (onProgress !== undefined) {
        meter = new ProgressMeter(onProgress, { intervalMs: progressInterval ?? 1000, total: total ?? (Array.isArray(items) ? items.length : undefined) }).start();
      }
      await this.pool.start();
      const batches = streamResults(this.pool, indexed(items, matcher, meter), {
        ordered: this.#options.ordered ?? false,
        signal: this.#options.signal,
        submit: (item, done: (result: ItemResult) => void) => this.pool.submit(item.data, { resolve: done, reject: (error) => done(resultOf(error)) }),
        toResult: (item, _position, result): JobResult<T> => ({ data: item.data, index: item.index, ...result }),
      });
      for await (const batch of batches) {
        if (writer !== undefined) {
          let text = '';
          for (const { index, data, ...rest } of batch) if (rest.cancelled !== true) text += logLine({ index, data, ...rest }) ?? '';
          await writer.write(text);
          if (writeError !== undefined) throw new PolytaskError(`cannot write the results log ${resultsLog}: ${writeError.message}`, { cause: writeError });
        }
        if (meter !== undefined) {
          let failed = 0;
          for (const result of batch) if (result.exit !== 0) failed++;
          meter.add(batch.length, failed);
        }
        yield batch;
      }
    } finally {
      await this.pool.close();
      meter?.stop();
      await writer?.end(true);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

interface Indexed<T> {
  data: T;
  // 0-based position in the input, counting the items skipped on resume
  index: number;
}

// The items with their positions, less those the log already has (sync input stays sync)
function indexed<T>(items: Iterable<T> | AsyncIterable<T>, matcher: ResumeMatcher | undefined, meter: ProgressMeter | undefined): Iterable<Indexed<T>> | AsyncIterable<Indexed<T>> {
  const skip = (data: T, index: number): boolean => {
    const logged = matcher?.match(index, () => JSON.stringify(data));
    if (logged === undefined) return false;
    meter?.skip(1, logged.failed ? 1 : 0);
    return true;
  };
  if (Symbol.asyncIterator in items) {
    return (async function* () {
      let index = 0;
      for await (const data of items) if (!skip(data, index++)) yield { data, index: index - 1 };
      matcher?.finish();
    })();
  }
  return (function* () {
    let index = 0;
    for (const data of items) if (!skip(data, index++)) yield { data, index: index - 1 };
    matcher?.finish();
  })();
}

