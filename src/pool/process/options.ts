// The cross-language pool's options, checked once into the settings the pool runs with
import { availableParallelism } from 'node:os';
import { checkOptions, isPositiveNumber, knownOptions, optionKeys, positiveInteger } from '../../options.js';
import { RetryPolicy, retryOptionKeys, type RetryOptions } from '../retry.js';
import type { OutputSink } from './worker.js';

export const poolOptionKeys = optionKeys<PoolOptions>()([...retryOptionKeys, 'processes', 'timeout', 'pipeline', 'setupTimeout', 'onWorkerOutput', 'keepAlive', 'attachTerminal', 'maxTasksPerWorker', 'maxMemoryMb']);

/** Options of `ProcessPool` (and of `JobRunner`, which makes one) */
export interface PoolOptions extends RetryOptions {
  /**
   * Number of children.
   * @default os.availableParallelism()
   */
  processes?: number;
  /**
   * ms an item may run, counted from when it is the oldest in flight on its child: the child
   * is killed and replaced, the item fails with a TimeoutError (exit 124).
   * @default no limit
   */
  timeout?: number;
  /**
   * Items in flight per child: a number, or 'auto' to keep about 10 ms of work queued per
   * child (many tiny items, one or two slow ones).
   * @default 'auto'
   */
  pipeline?: number | 'auto';
  /**
   * ms a child may take to load the code and run the setup hook.
   * @default 120000
   */
  setupTimeout?: number;
  /**
   * Where the children's own fd 1/2 output goes (what a handler prints outside an item).
   * @default this process's stderr
   */
  onWorkerOutput?: OutputSink;
  /**
   * true: idle children keep this process alive, as a server's would. By default children
   * hold the event loop only while items are in flight, as every pool's workers do: a pool
   * that is never closed does not hold Node open, and its children end with the process.
   * @default false
   */
  keepAlive?: boolean;
  /**
   * Children share this terminal (fd 0-2) and do not capture output: for debugging.
   * @default false
   */
  attachTerminal?: boolean;
  /**
   * A child is replaced, between items, after it has run this many items.
   * @default never
   */
  maxTasksPerWorker?: number;
  /**
   * A child is replaced, between items, once its resident memory is above this many MB (read
   * from /proc on Linux as results come, every 20 ms at most). No item fails for it.
   * @default no limit
   */
  maxMemoryMb?: number;
}

export interface PoolSettings {
  processes: number;
  timeout: number | undefined;
  setupTimeout: number;
  pipeline: number | 'auto';
  onOutput: OutputSink;
  keepAlive: boolean;
  attachTerminal: boolean;
  retry: RetryPolicy;
  maxTasks: number | undefined;
  maxMemoryMb: number | undefined;
  // an fd the children write the output lines of `lines` blocks to (ProcessPool.writeLinesTo)
  linesOutput: number | undefined;
}

export function poolSettings(options: PoolOptions): PoolSettings {
  knownOptions('ProcessPool', options, poolOptionKeys);
  const pipeline = options.pipeline ?? 'auto';
  checkOptions(options, { maxMemoryMb: isPositiveNumber });
  return {
    processes: positiveInteger('processes', options.processes ?? availableParallelism()),
    timeout: options.timeout === undefined ? undefined : positiveInteger('timeout', options.timeout),
    setupTimeout: positiveInteger('setupTimeout', options.setupTimeout ?? 120_000),
    pipeline: pipeline === 'auto' ? pipeline : positiveInteger('pipeline', pipeline),
    onOutput: options.onWorkerOutput ?? ((chunk) => process.stderr.write(chunk)),
    keepAlive: options.keepAlive ?? false,
    attachTerminal: options.attachTerminal ?? false,
    retry: new RetryPolicy(options),
    maxTasks: options.maxTasksPerWorker === undefined ? undefined : positiveInteger('maxTasksPerWorker', options.maxTasksPerWorker),
    maxMemoryMb: options.maxMemoryMb,
    linesOutput: undefined,
  };
}
