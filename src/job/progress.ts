// Counts a run's results and reports them on a timer, never per item: the CLI's progress line
// and JobRunner's `onProgress` both read these counts.

export interface Progress {
  // items with a result: this run's and those skipped from a results log
  done: number;
  // of those, the ones whose exit status was not 0
  failed: number;
  // of `done`, the items skipped because a results log already had them
  skipped: number;
  // the number of items, when known
  total: number | undefined;
  // this run's rate over the last few seconds (skipped items do not count)
  itemsPerSecond: number;
  // seconds left at that rate, when the total is known, not reached, and the rate is not 0
  etaSeconds: number | undefined;
  elapsedMs: number;
}

export type ProgressCallback = (progress: Progress) => void;

// Samples kept for the rate: one per tick, the oldest dropped after `window` of them
const window = 50;

export class ProgressMeter {
  readonly #report: ProgressCallback;
  readonly #intervalMs: number;
  readonly #started = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #done = 0;
  #failed = 0;
  #skipped = 0;
  #total: number | undefined;
  #reported = '';
  readonly #samples: [number, number][] = [];
  #ticks = 0;

  constructor(report: ProgressCallback, options: { intervalMs?: number; total?: number | undefined } = {}) {
    this.#report = report;
    this.#intervalMs = options.intervalMs ?? 100;
    this.#total = options.total;
  }

  // Starts the timer; it does not keep the process alive
  start(): this {
    this.#samples.push([this.#started, 0]);
    this.#timer = setInterval(() => this.#tick(false), this.#intervalMs);
    this.#timer.unref();
    return this;
  }

  add(done: number, failed: number): void {
    this.#done += done;
    this.#failed += failed;
  }

  skip(skipped: number, failed: number): void {
    this.#skipped += skipped;
    this.#failed += failed;
  }

  set total(total: number | undefined) {
    this.#total = total;
  }

  get snapshot(): Progress {
    const now = performance.now();
    const oldest = this.#samples[0] ?? [this.#started, 0];
    const seconds = (now - oldest[0]) / 1000;
    const itemsPerSecond = seconds > 0 ? (this.#done - oldest[1]) / seconds : 0;
    const done = this.#done + this.#skipped;
    const total = this.#total === undefined ? undefined : Math.max(this.#total, done);
    const etaSeconds = total !== undefined && done < total && itemsPerSecond > 0 ? (total - done) / itemsPerSecond : undefined;
    return { done, failed: this.#failed, skipped: this.#skipped, total, itemsPerSecond, etaSeconds, elapsedMs: now - this.#started };
  }

  // Stops the timer and reports the last counts
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#tick(true);
  }

  #tick(always: boolean): void {
    this.#samples.push([performance.now(), this.#done]);
    if (this.#samples.length > window) this.#samples.shift();
    const changed = `${this.#done} ${this.#skipped} ${this.#failed} ${this.#total}`;
    // an unchanged count is still reported now and then, so that a rate can fall to 0
    if (++this.#ticks % 10 !== 0 && !always && changed === this.#reported) return;
    this.#reported = changed;
    this.#report(this.snapshot);
  }
}
