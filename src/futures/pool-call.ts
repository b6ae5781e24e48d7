// caller(pool): calls of a cross-language pool's handler as Futures. The handler's event is the
// argument array (call(32) -> [32], call(1, 'a') -> [1, 'a']), so a handler can take any
// number of arguments without guessing. A call that raises rejects its future with a
// RemoteError (a timeout or a dead child with TimeoutError or WorkerExitedError, as task(spec)
// does); the child goes on serving the next calls and the pool never shrinks. What a call
// printed (captured by the child) is written to this process's stdout and stderr when it
// succeeds; a failed call's output and traceback stay in its error (`error.result`).
import type { Executor } from '../pool/executor.js';
import type { ItemResult } from '../pool/items.js';
import { Future } from './future.js';

export function caller<T = unknown>(pool: Executor<unknown, ItemResult>): (...args: unknown[]) => Future<T> {
  return (...args) => {
    const future = new Future<T>(args);
    pool.submit([...args], {
      onAbort: (listener) => future.onAbort(listener),
      get signal() {
        return future.signal;
      },
      onStart: () => future.setRunning(),
      resolve: (result) => {
        if (result.stdout !== '') process.stdout.write(result.stdout);
        if (result.stderr !== '') process.stderr.write(result.stderr);
        future.setResult(result.value as T);
      },
      // a future cancelled by its owner is already settled; setException() then does nothing
      reject: (error) => future.setException(error instanceof Error ? error : new Error(String(error))),
    });
    return future;
  };
}
