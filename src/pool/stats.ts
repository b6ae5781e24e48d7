// What a pool reports about its run: counts, item latency percentiles, and each child slot's
// CPU time and peak memory, read from /proc (Linux) without any dependency.
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
    const exponent = us < 2 ** 31 ? 31 - Math.clz32(us) : Math.min(63, Math.floor(Math.log2(us)));
    const fraction = Math.floor(us / 2 ** (exponent - 4)) & 15;
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
