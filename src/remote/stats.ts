// The producer's counts of a run on Redis, in the pool's PoolStats shape (no local children)
import { Histogram, type PoolStats } from '../pool/process/stats.js';
import { exitCodes } from '../protocol/exit-codes.js';

export class RemoteStats {
  readonly #latency = new Histogram();
  #done = 0;
  #failed = 0;
  #timedOut = 0;
  retried = 0;
  // items sent again because their job ended without their result (a worker killed, Redis lost)
  lost = 0;

  // An item answered; `ms` from sending its job to its result, when a worker answered it
  answered(exit: number, rest: string, ms: number | undefined): void {
    this.#done++;
    if (ms !== undefined) this.#latency.add(ms);
    if (exit === 0) return;
    this.#failed++;
    if (exit === exitCodes.timeout && rest.includes('"TimeoutError"')) this.#timedOut++;
  }

  // `count` items answered by a worker at once, `failed` of them failed (none timed out: a block has no timeout)
  answeredMany(count: number, failed: number, ms: number): void {
    this.#done += count;
    this.#failed += failed;
    for (let k = 0; k < count; k++) this.#latency.add(ms);
  }

  snapshot(): PoolStats {
    const latency = { p50: round(this.#latency.quantile(0.5)), p99: round(this.#latency.quantile(0.99)), max: round(this.#latency.max) };
    return { done: this.#done, failed: this.#failed, retried: this.retried, timedOut: this.#timedOut, crashes: this.lost, recycled: 0, latency, workers: [] };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
