// JobRunner: the stream API over the cross-language pool.
//
//   const runner = new JobRunner(spec, items, { processes: 2 });
//   const [ok, err] = await runner.setup();
//   for await (const r of runner.run()) console.log(r.exit, r.data, r.stdout);
import { OptionError } from '../errors.js';
import { iterable } from '../options.js';
import { ProcessPool, type ItemResult, type PoolOptions } from '../pool/process-pool.js';
import { resolveSpec, type ResolvedSpec } from '../spec/load.js';
import type { JobSpec } from '../spec/schema.js';
import { streamResults } from './stream.js';

export interface JobRunnerOptions extends PoolOptions {
  // results in input order instead of completion order (default false)
  ordered?: boolean;
  // stops the run: children are ended and run() throws an AbortError
  signal?: AbortSignal;
}

// One item's result, with the item as given and its 0-based position in the input
export interface JobResult<T = unknown> extends ItemResult {
  data: T;
  index: number;
}

export class JobRunner<T = unknown> {
  readonly spec: ResolvedSpec;
  readonly pool: ProcessPool;
  readonly #items: Iterable<T> | AsyncIterable<T>;
  readonly #options: JobRunnerOptions;
  #ran = false;

  constructor(spec: JobSpec | ResolvedSpec, items: Iterable<T> | AsyncIterable<T>, options: JobRunnerOptions = {}) {
    iterable('items', items);
    this.spec = resolveSpec(spec);
    this.pool = new ProcessPool(this.spec, options);
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

  // Yields one result per item; leaving the loop early ends the children
  async *run(): AsyncGenerator<JobResult<T>, void, undefined> {
    for await (const batch of this.runBatches()) yield* batch;
  }

  // Same as run(), a batch of ready results at a time (cheaper per item)
  async *runBatches(): AsyncGenerator<JobResult<T>[], void, undefined> {
    if (this.#ran) throw new OptionError('run() can be called once per JobRunner');
    this.#ran = true;
    try {
      await this.pool.start();
      yield* streamResults(this.pool, this.#items, {
        ordered: this.#options.ordered ?? false,
        signal: this.#options.signal,
        submit: (pool, item, done: (result: ItemResult) => void) => pool.submit(item, done),
        toResult: (data, index, result) => ({ data, index, ...result }),
      });
    } finally {
      await this.pool.close();
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
