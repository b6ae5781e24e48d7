// How many calls to hand a worker at once: calls in flight on one child of the process pool,
// or calls per batch of the thread pool. 'auto' aims at about 10 ms of queued work: many
// calls for tiny ones (the cost of a message must not set the throughput), few for slow ones
// (so that the workers share the work evenly and a crash requeues little). It starts low and
// at most doubles per measurement, so a first burst of slow calls is not handed out in bulk.
const targetMs = 10;
const minDepth = 2;

export class Depth {
  value: number;
  readonly #fixed: boolean;
  readonly #max: number;
  #msPerItem = 0;
  #lastAnswer = 0;

  constructor(pipeline: number | 'auto', max = 256) {
    this.#fixed = pipeline !== 'auto';
    this.#max = max;
    this.value = pipeline === 'auto' ? minDepth : pipeline;
  }

  // The child went from idle to busy at `now`
  busySince(now: number): void {
    this.#lastAnswer = now;
  }

  // `count` answers arrived at `now`
  answered(count: number, now: number): void {
    if (count === 0) return;
    const sample = (now - this.#lastAnswer) / count;
    this.#lastAnswer = now;
    this.observe(sample);
  }

  // One measurement: the calls took `msPerItem` each
  observe(msPerItem: number): void {
    if (this.#fixed) return;
    this.#msPerItem = this.#msPerItem === 0 ? msPerItem : this.#msPerItem * 0.7 + msPerItem * 0.3;
    const wanted = Math.ceil(targetMs / Math.max(this.#msPerItem, 0.001));
    this.value = Math.max(minDepth, Math.min(this.#max, wanted, this.value * 2));
  }

  // A replacement child starts over
  reset(): void {
    if (this.#fixed) return;
    this.value = minDepth;
    this.#msPerItem = 0;
  }
}
