// When a failed call runs again, and after how long: the same rule for task() and the pools. A
// retry is decided per failure the call itself caused (its worker died under it, it timed out,
// or, when asked, it raised); a call that only happened to be queued on a worker that died is
// sent again without using a retry.
import { OptionError } from '../errors.js';
import { checkOption, isListOf, isNonNegativeMs, nonNegativeInteger, optionKeys } from '../options.js';

export const retryKinds = ['crash', 'timeout', 'error'] as const;
export type RetryOn = (typeof retryKinds)[number];

export const retryOptionKeys = optionKeys<RetryOptions>()(['retries', 'retryDelay', 'retryOn']);
/** When a failed call runs again: the same options for task() and the pools */
export interface RetryOptions {
  /**
   * How many times a failed call runs again.
   * @default 0
   */
  retries?: number;
  /**
   * ms before the first retry; each further retry of the same call waits twice as long.
   * @default 100
   */
  retryDelay?: number;
  /**
   * Which failures are retried: 'crash' (its worker died under it), 'timeout', 'error' (it
   * raised or threw).
   * @default ['crash', 'timeout']
   */
  retryOn?: readonly RetryOn[];
}

export class RetryPolicy {
  readonly retries: number;
  readonly delay: number;
  readonly #on: ReadonlySet<RetryOn>;

  constructor(options: RetryOptions) {
    this.retries = nonNegativeInteger('retries', options.retries ?? 0);
    this.delay = checkOption('retryDelay', options.retryDelay ?? 100, isNonNegativeMs);
    this.#on = new Set(checkOption('retryOn', options.retryOn ?? ['crash', 'timeout'], isListOf(retryKinds)));
  }

  // Whether item errors (a handler that raised) are retried: the pool then looks at failed results
  get onError(): boolean {
    return this.retries > 0 && this.#on.has('error');
  }

  // The wait before running an item again after a failure of `kind`, its `retried`-th retry so
  // far; undefined when it is not retried
  delayFor(kind: RetryOn, retried: number): number | undefined {
    if (retried >= this.retries || !this.#on.has(kind)) return undefined;
    return this.delay * 2 ** retried;
  }
}

// Parses the CLI's comma-separated list, e.g. "crash,timeout,error"
export function parseRetryOn(text: string): RetryOn[] {
  const kinds = text.split(',').map((k) => k.trim()).filter((k) => k !== '');
  for (const kind of kinds) {
    if (!retryKinds.includes(kind as RetryOn)) throw new OptionError(`--retry-on: expected a comma-separated list of ${retryKinds.join(', ')}, got "${text}"`);
  }
  return kinds as RetryOn[];
}
