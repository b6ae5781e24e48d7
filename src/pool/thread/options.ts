// The thread pool's options, and the Node flags its workers get
import { availableParallelism } from 'node:os';
import { checkOption, isOneOf, knownOptions, optionKeys, positiveInteger } from '../../options.js';

export const threadPoolOptionKeys = optionKeys<ThreadPoolOptions>()(['runtime', 'concurrency', 'idleTimeout', 'maxOldGenerationSizeMb', 'concurrentTasksPerWorker']);

/** Options of `ThreadPool`, the JavaScript runtime of task() */
export interface ThreadPoolOptions {
  /**
   * Where calls run: worker threads, or child processes (for native modules that break in threads).
   * @default 'thread'
   */
  runtime?: 'thread' | 'process';
  /**
   * Workers, and calls running at once.
   * @default os.availableParallelism()
   */
  concurrency?: number;
  /**
   * ms an idle worker is kept before it ends.
   * @default 30000
   */
  idleTimeout?: number;
  /**
   * Heap limit of each worker in MB; a call that goes over it fails with a WorkerExitedError
   * and its worker is replaced.
   * @default Node's own limit
   */
  maxOldGenerationSizeMb?: number;
  /**
   * Calls one worker may have waiting on a promise at once. A call whose function returns a
   * promise (an async function, I/O) lets the worker start its next call while it waits; a
   * call that returns a plain value holds its worker until it returns. 1: calls of a worker
   * never overlap.
   * @default 16
   */
  concurrentTasksPerWorker?: number;
}

// concurrentTasksPerWorker by default: enough I/O in flight per worker to hide waits of a few
// hundred ms, few enough that a worker does not hold calls another one could run, and that a
// timeout or a worker's death (which run the worker's other calls again) costs little
export const defaultTasksPerWorker = 16;

export interface ThreadSettings {
  runtime: 'thread' | 'process';
  concurrency: number;
  concurrentTasksPerWorker: number;
  idleTimeout: number;
  heapMb: number | undefined;
}

export function threadSettings(options: ThreadPoolOptions): ThreadSettings {
  knownOptions('ThreadPool', options, threadPoolOptionKeys);
  const runtime = checkOption('runtime', options.runtime ?? 'thread', isOneOf(['thread', 'process']));
  return {
    runtime,
    concurrency: positiveInteger('concurrency', options.concurrency ?? availableParallelism()),
    concurrentTasksPerWorker: positiveInteger('concurrentTasksPerWorker', options.concurrentTasksPerWorker ?? defaultTasksPerWorker),
    idleTimeout: positiveInteger('idleTimeout', options.idleTimeout ?? 30_000),
    heapMb: options.maxOldGenerationSizeMb === undefined ? undefined : positiveInteger('maxOldGenerationSizeMb', options.maxOldGenerationSizeMb),
  };
}

// The Node flags for the workers: this process's, without those that only make sense for a
// main script given on the command line (`node --input-type=module -e ...` would make every
// worker fail to start). Threads inherit the flags when nothing needs removing: an explicit
// list is checked, and refuses process-wide flags such as --expose-gc.
export function workerExecArgv(isProcess: boolean, extra: string[]): { execArgv?: string[] } {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (/^--input-type(=|$)/.test(arg)) {
      if (!arg.includes('=')) i++;
    } else if (/^(-e|--eval|-p|--print)$/.test(arg)) {
      i++;
    } else if (!/^(--eval|--print)=/.test(arg)) {
      out.push(arg);
    }
  }
  if (!isProcess && out.length === argv.length && extra.length === 0) return {};
  return { execArgv: [...out, ...extra] };
}
