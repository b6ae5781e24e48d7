// pool.call(...args): one call of the pool's handler as a Future. The handler's event is the
// argument array (call(32) -> [32], call(1, 'a') -> [1, 'a']), so a handler can take any
// number of arguments without guessing. A call that raises rejects its future with a
// RemoteError (a timeout or a dead child with TimeoutError or WorkerExitedError, as task(spec)
// does); the child goes on serving the next calls and the pool never shrinks. What a call
// printed (captured by the child) is written to this process's stdout and stderr when it
// succeeds; a failed call's output and traceback stay in its error (`error.result`).
import { Future } from '../futures/future.js';
import { toError } from '../futures/spec-executor.js';
import type { ItemResult } from './call.js';

interface Submitter {
  submit(data: unknown, done: (result: ItemResult) => void, onStart?: () => void): number;
  cancel(id: number, message?: string): boolean;
}

export function callOnPool<T>(pool: Submitter, args: readonly unknown[], timeout: number | undefined): Future<T> {
  const future = new Future<T>(args);
  const id = pool.submit([...args], (result) => settleCall(future, result, timeout), () => future.setRunning());
  if (id !== 0) future.onAbort(() => pool.cancel(id, `future ${future.id} was cancelled`));
  return future;
}

function settleCall<T>(future: Future<T>, result: ItemResult, timeout: number | undefined): void {
  if (result.error !== undefined) {
    // a future cancelled by its owner is already settled; setException() then does nothing
    future.setException(toError(result, timeout));
    return;
  }
  if (result.stdout !== '') process.stdout.write(result.stdout);
  if (result.stderr !== '') process.stderr.write(result.stderr);
  future.setResult(result.value as T);
}
