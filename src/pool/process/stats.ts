// What a pool reports about its run: counts, item latency percentiles, and each child slot's
// CPU time and peak memory, read from /proc (Linux) without any dependency. The pool feeds a
// PoolMeter as it goes; stats() is a snapshot of it.
import { readFileSync } from 'node:fs';

export interface WorkerStats {
  // the pool slot (POLYTASK_WORKER_ID)
  id: number;
  // the child now in the slot, if one runs
  pid: number | undefined;
  // results this slot's children gave
  items: number;
  // children started in the slot after the first (crashes, timeouts, recycling)
  restarts: number;
  // user + system CPU time of all the slot's children so far, in seconds
  cpuSeconds: number;
  // the largest resident set size any of the slot's children reached, in MB
  peakRssMb: number;
}

export interface PoolStats {
  // items answered (each exactly once), and those with a non-zero exit
  done: number;
  failed: number;
  // runs started again after a failure of their own (crash, timeout, or error when asked)
  retried: number;
  timedOut: number;
  // children that died while running items, and children replaced between items (recycling)
  crashes: number;
  recycled: number;
  // ms from sending an item to a child to its result (queueing in the child included)
  latency: { p50: number; p99: number; max: number };
  workers: WorkerStats[];
}

// A log-scale histogram of durations: 16 buckets per power of two of microseconds (about 4%
// precision), constant memory whatever the number of items
export class Histogram {
  readonly #counts = new Float64Array(64 * 16);
  #total = 0;
  #max = 0;

  add(ms: number): void {
    const us = Math.max(1, Math.round(ms * 1000));
    // clz32 is exact below 2^31 us (35 minutes); longer items take the slower way
    let exponent: number;
    let fraction: number;
    if (us < 2 ** 31) {
      exponent = 31 - Math.clz32(us);
      fraction = (exponent >= 4 ? us >>> (exponent - 4) : us << (4 - exponent)) & 15;
    } else {
      exponent = Math.min(63, Math.floor(Math.log2(us)));
      fraction = Math.floor(us / 2 ** (exponent - 4)) & 15;
    }
    this.#counts[exponent * 16 + fraction]!++;
    this.#total++;
    if (ms > this.#max) this.#max = ms;
  }

  // The duration below which a share `q` (0..1) of the samples fall, in ms
  quantile(q: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.ceil(q * this.#total);
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        const exponent = Math.floor(i / 16);
        const fraction = i % 16;
        // the middle of the bucket
        return Math.min(this.#max, ((16 + fraction + 0.5) * 2 ** (exponent - 4)) / 1000);
      }
    }
    return this.#max;
  }

  get max(): number {
    return this.#max;
  }
}

export interface ProcSample {
  cpuSeconds: number;
  peakRssMb: number;
  rssMb: number;
}

// clock ticks per second of /proc/<pid>/stat on Linux (USER_HZ, 100 on every common platform)
const ticksPerSecond = 100;

// CPU time and memory of a live process, or undefined when /proc cannot tell (not Linux, or gone)
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { cpuSeconds, peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

// how often at most a child's memory is read as its results come (with a memory ceiling)
const memoryCheckMs = 20;

interface SlotFigures {
  items: number;
  // -1 before the first child starts
  restarts: number;
  // CPU seconds of the slot's children that are gone, and the last reading of the current one
  cpuBefore: number;
  cpuNow: number;
  peakRssMb: number;
  memoryCheckedAt: number;
}

export class PoolMeter {
  readonly #counts = { done: 0, failed: 0, retried: 0, timedOut: 0, crashes: 0, recycled: 0 };
  readonly #latency = new Histogram();
  readonly #slots: SlotFigures[];

  constructor(slots: number) {
    this.#slots = Array.from({ length: slots }, () => ({ items: 0, restarts: -1, cpuBefore: 0, cpuNow: 0, peakRssMb: 0, memoryCheckedAt: 0 }));
  }

  // An item got its final result
  answered(exit: number, timedOut = false): void {
    this.#counts.done++;
    if (exit !== 0) this.#counts.failed++;
    if (timedOut) this.#counts.timedOut++;
  }

  // The slot's child answered `count` items at once (lines of a `lines` block), `failed` of
  // them with a non-zero exit, `ms` after they were sent
  chunk(slot: number, count: number, failed: number, ms: number): void {
    this.#counts.done += count;
    this.#counts.failed += failed;
    this.#latency.add(ms);
    this.#slots[slot]!.items += count;
  }

  // A child answered an item `ms` after it was sent
  latency(ms: number): void {
    this.#latency.add(ms);
  }

  // `count` results came from the slot's child
  results(slot: number, count: number): void {
    this.#slots[slot]!.items += count;
  }

  count(event: 'retried' | 'crashes' | 'recycled'): void {
    this.#counts[event]++;
  }

  childStarted(slot: number): void {
    const figures = this.#slots[slot]!;
    figures.restarts++;
    figures.cpuBefore += figures.cpuNow;
    figures.cpuNow = 0;
  }

  // Reads the slot's live child; returns its resident memory in MB, when /proc tells
  sample(slot: number, pid: number | undefined): number | undefined {
    if (pid === undefined) return undefined;
    const sample = sampleProcess(pid);
    if (sample === undefined) return undefined;
    const figures = this.#slots[slot]!;
    figures.cpuNow = sample.cpuSeconds;
    figures.peakRssMb = Math.max(figures.peakRssMb, sample.peakRssMb);
    return sample.rssMb;
  }

  // Whether the slot's memory is due for a check as results come, at `now` (ms)
  memoryDue(slot: number, now: number): boolean {
    const figures = this.#slots[slot]!;
    if (now - figures.memoryCheckedAt < memoryCheckMs) return false;
    figures.memoryCheckedAt = now;
    return true;
  }

  // The figures so far; `pids` are the slots' live children
  snapshot(pids: readonly (number | undefined)[]): PoolStats {
    const round = (ms: number) => Math.round(ms * 1000) / 1000;
    return {
      ...this.#counts,
      latency: { p50: round(this.#latency.quantile(0.5)), p99: round(this.#latency.quantile(0.99)), max: round(this.#latency.max) },
      workers: this.#slots.map((figures, id) => ({
        id,
        pid: pids[id],
        items: figures.items,
        restarts: Math.max(0, figures.restarts),
        cpuSeconds: Math.round((figures.cpuBefore + figures.cpuNow) * 100) / 100,
        peakRssMb: Math.round(figures.peakRssMb * 10) / 10,
      })),
    };
  }
}
