// The error a failed item rejects with (Executor contract), with the item's result attached as
// `result`: a RemoteError for a handler that raised, TimeoutError, WorkerExitedError, AbortError
import { AbortError, PolytaskError, RemoteError, SerializationError, TimeoutError, WorkerExitedError } from '../../errors.js';
import type { ItemResult } from './call.js';

export function toError(result: ItemResult, timeout = 0): Error & { result: ItemResult } {
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
    case 'SerializationError':
      error = new SerializationError(info);
      break;
    case 'AbortError':
      error = new AbortError(info.message);
      break;
    default:
      error = new RemoteError(info);
  }
  return Object.assign(error, { result });
}
