// How many calls to keep in flight on one child. 'auto' aims at about 10 ms of queued work:
// deep pipelines for tiny items (IPC latency must not set the throughput), shallow ones for
// slow items (so that the children share the work evenly and a crash requeues little).
const targetMs = 10;
const minDepth = 2;
const maxDepth = 256;

export class Depth {
  value: number;
  readonly #fixed: boolean;
  #msPerItem = 0;
  #lastAnswer = 0;

  constructor(pipeline: number | 'auto') {
    this.#fixed = pipeline !== 'auto';
    this.value = pipeline === 'auto' ? minDepth : pipeline;
  }

  // The child went from idle to busy at `now`
  busySince(now: number): void {
    this.#lastAnswer = now;
  }

  // `count` answers arrived at `now`
  answered(count: number, now: number): void {
    if (this.#fixed || count === 0) return;
    const sample = (now - this.#lastAnswer) / count;
    this.#lastAnswer = now;
    this.#msPerItem = this.#msPerItem === 0 ? sample : this.#msPerItem * 0.7 + sample * 0.3;
    const wanted = Math.ceil(targetMs / Math.max(this.#msPerItem, 0.001));
    this.value = Math.max(minDepth, Math.min(maxDepth, wanted, this.value * 2));
  }

  // A replacement child starts over
  reset(): void {
    if (this.#fixed) return;
    this.value = minDepth;
    this.#msPerItem = 0;
  }
}
