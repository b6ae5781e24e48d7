// The options of a run on Redis, the producer's side (the workers' are RemoteWorkerOptions)
import { OptionError } from '../errors.js';
import { checkOptions, isNonNegativeMs, knownOptions, optionKeys, positiveInteger } from '../options.js';
import { poolOptionKeys } from '../pool/process/options.js';
import type { ItemResult } from '../pool/items.js';
import { retryOptionKeys, type RetryOptions } from '../pool/retry.js';

export const remoteOptionKeys = optionKeys<RemoteOptions>()([...retryOptionKeys, 'redis', 'timeout', 'redisTimeout', 'onFatal']);
/** Options of a spec's items run by workers over Redis (`redis` given to JobRunner, task(), ...) */
export interface RemoteOptions extends RetryOptions {
  /** Redis URL: `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS) or `redis+unix:///path` */
  redis: string;
  /**
   * ms an item may run on its worker's child, from its start there: the child is killed and
   * replaced, the item fails with a TimeoutError (exit 124).
   * @default no limit
   */
  timeout?: number;
  /**
   * ms Redis may be unreachable before the run fails: every unanswered item then fails with a
   * ConnectionError, and `onFatal` hears it.
   * @default 30000
   */
  redisTimeout?: number;
  /**
   * Called once when the run cannot go on (Redis lost for longer than `redisTimeout`).
   * @default none
   */
  onFatal?: (error: Error) => void;
}

// Options of the local pool are the workers' own: named as such rather than as unknown
export function checkRemoteOptions(options: RemoteOptions): void {
  for (const key of Object.keys(options)) {
    if (!remoteOptionKeys.includes(key as keyof RemoteOptions) && (poolOptionKeys as readonly string[]).includes(key)) {
      throw new OptionError(`${key}: set on the workers (polytask worker), not on a run with \`redis\``);
    }
  }
  knownOptions('RemoteExecutor', options, remoteOptionKeys);
  checkOptions(options, { redisTimeout: isNonNegativeMs });
  if (options.timeout !== undefined) positiveInteger('timeout', options.timeout);
}

/** A queue of JavaScript calls, how a call is written for it, and who serves it (js-calls.ts) */
export interface RemoteRoute {
  queue: string;
  // the call's text, or the failure of one that cannot be sent
  encode: (call: unknown) => string | ItemResult;
  serves: readonly [what: string, flags: string];
}
