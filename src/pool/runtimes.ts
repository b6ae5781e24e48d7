// The one place that names the runtimes (and the remote one, src/remote/): the layers above ask for an executor by what it must
// run (a JavaScript function, a job spec) and where, and get the Executor interface back.
import { InlineExecutor } from './inline.js';
import type { ItemExecutor } from './items.js';
import { ProcessPool, type PoolOptions } from './process/pool.js';
import type { ResolvedSpec } from '../spec/load.js';
import { ThreadPool, type ThreadPoolOptions } from './thread/pool.js';
import type { Executor } from './executor.js';
import type { InlineCall } from './inline.js';
import { RemoteExecutor, type RemoteOptions } from '../remote/executor.js';
import { RemoteJsExecutor } from '../remote/js-executor.js';

export type JsRuntime = 'thread' | 'process' | 'inline';

const shared = new Map<JsRuntime, Executor<InlineCall>>();

/** An executor of JavaScript calls: worker threads, child processes, or this process */
export function jsExecutor(runtime: JsRuntime, options: Omit<ThreadPoolOptions, 'runtime'> = {}): Executor<InlineCall> {
  return runtime === 'inline' ? new InlineExecutor() : new ThreadPool({ ...options, runtime });
}

/**
 * The shared executor of a runtime, made on first use: idle workers do not keep the process
 * alive, and it needs no closing
 */
export function sharedJsExecutor(runtime: JsRuntime): Executor<InlineCall> {
  let executor = shared.get(runtime);
  if (executor === undefined) {
    executor = jsExecutor(runtime);
    shared.set(runtime, executor);
  }
  return executor;
}

/** Options of a spec's executor: the local pool's, or with `redis`, the workers' over Redis */
export type SpecExecutorOptions = PoolOptions | RemoteOptions;

/** An executor of a job spec's items: the local pool, or workers over Redis with `redis` */
export function specExecutor(spec: ResolvedSpec, options: SpecExecutorOptions = {}): ItemExecutor {
  if ('redis' in options && options.redis !== undefined) return new RemoteExecutor(spec, options);
  return new ProcessPool(spec, options as PoolOptions);
}

/**
 * An executor of JavaScript calls on `polytask worker` processes over Redis: `sample` (a call of
 * the task) fixes the queue, its module root's or the one of signed inline code
 */
export function remoteJsExecutor(sample: InlineCall, options: RemoteOptions & { moduleRoot?: string }): Executor<InlineCall> {
  return new RemoteJsExecutor(sample, options);
}
