// The cross-language pool behind the Executor interface: a call is one item, its value the
// item's result ({exit, value, stdout, stderr}); a handler exception rejects with a RemoteError.
import { RemoteError, TimeoutError, WorkerExitedError, AbortError, PolytaskError } from '../errors.js';
import type { Executor, RunOptions } from '../pool/executor.js';
import { ProcessPool, type ItemResult, type PoolOptions } from '../pool/process-pool.js';
import type { ResolvedSpec } from '../spec/load.js';

export class SpecExecutor implements Executor<unknown> {
  readonly pool: ProcessPool;
  readonly #timeout: number;

  constructor(spec: ResolvedSpec, options: PoolOptions = {}) {
    this.pool = new ProcessPool(spec, options);
    this.#timeout = options.timeout ?? 0;
  }

  run(item: unknown, options: RunOptions): Promise<ItemResult> {
    // (with onAbort, the signal is left alone: a Future makes it only when asked for it)
    if (options.onAbort === undefined && options.signal.aborted) return Promise.reject(options.signal.reason);
    return new Promise<ItemResult>((resolve, reject) => {
      let id = 0;
      let settled = false;
      let cancelledFirst = false;
      const onAbort = () => {
        if (id === 0) cancelledFirst = true;
        else this.pool.cancel(id, 'the future was cancelled');
      };
      // onAbort calls the listener at once for a call cancelled already: it is then not submitted
      const unsubscribe = options.onAbort?.(onAbort);
      if (cancelledFirst) {
        unsubscribe?.();
        reject(options.signal.reason);
        return;
      }
      id = this.pool.submit(item, (result) => {
        settled = true;
        if (unsubscribe !== undefined) unsubscribe();
        else options.signal.removeEventListener('abort', onAbort);
        if (result.error === undefined) resolve(result);
        else reject(options.signal.aborted ? options.signal.reason : toError(result, this.#timeout));
      }, options.onStart === undefined ? undefined : () => options.onStart!());
      // an item answered at once (a closed pool, say) needs no listener
      if (!settled && unsubscribe === undefined) options.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

// The error class for a failed item, with the item's result attached as `result`
export function toError(result: ItemResult, timeout = 0): Error {
  const info = result.error!;
  let error: PolytaskError;
  switch (info.name) {
    case 'TimeoutError':
      error = new TimeoutError(timeout);
      error.message = info.message;
      break;
    case 'WorkerExitedError':
      error = new WorkerExitedError(info.message, result.exit, null);
      break;
    case 'AbortError':
      error = new AbortError(info.message);
      break;
    default:
      error = new RemoteError(info);
  }
  return Object.assign(error, { result });
}
