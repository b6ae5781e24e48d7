// The futures benchmark (issue 3): calls/s of `task(fn, { concurrency: 2 })` beside the Node
// worker pools it competes with (raw tinypool, piscina, workerpool), 2 workers each, in the same
// run: many trivial calls (`x => x + 1`) submitted at once, then awaited with Promise.all. Also
// the latency of one call awaited on its own on a warm pool (p50, p99). The pools live side by
// side (idle workers cost no CPU) and take turns, round by round, so that the drift of a noisy
// machine hits them all alike.
// The peers' worker files are in test/bench/workers/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { task } from '../../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..', '..', '..');
// .mjs files are not compiled: the workers are loaded from the sources
const workers = path.join(repo, 'test', 'bench', 'workers');

export interface FuturesOptions {
  // calls per round (default 20,000)
  calls?: number;
  // calls of the warm-up batch (default 2,000)
  warmup?: number;
  // rounds, of which the median is kept (default 3)
  rounds?: number;
  // sequential calls for the latency figures (default 1,000)
  latencyCalls?: number;
  // progress lines go here (default: none)
  log?: (line: string) => void;
}

export interface FuturesResult {
  name: string;
  callsPerSecond: number;
  // seconds of each round
  rounds: number[];
  latencyUs: { p50: number; p99: number };
}

export interface FuturesReport {
  calls: number;
  warmup: number;
  rounds: number;
  latencyCalls: number;
  workers: number;
  results: FuturesResult[];
}

interface Contestant {
  name: string;
  call: (x: number) => PromiseLike<number>;
  close: () => Promise<unknown>;
}

const size = 2;

// Each contestant's pool is created only when it is measured
const contestants: { name: string; start: () => Omit<Contestant, 'name'> }[] = [
  {
    name: 'polytask task(fn, { concurrency: 2 })',
    start: () => {
      const inc = task((x: number) => x + 1, { concurrency: size });
      return { call: (x) => inc(x), close: () => inc.close() };
    },
  },
  {
    name: 'tinypool (min/maxThreads 2)',
    start: () => {
      const pool = new Tinypool({ filename: path.join(workers, 'inc.mjs'), minThreads: size, maxThreads: size });
      return { call: (x) => pool.run(x) as Promise<number>, close: () => pool.destroy() };
    },
  },
  {
    name: 'piscina (defaults, min/maxThreads 2)',
    start: () => {
      const pool = new Piscina<number, number>({ filename: path.join(workers, 'inc.mjs'), minThreads: size, maxThreads: size });
      return { call: (x) => pool.run(x), close: () => pool.destroy() };
    },
  },
  {
    name: 'workerpool (maxWorkers 2), exec',
    start: () => {
      const pool = workerpool.pool(path.join(workers, 'inc-workerpool.mjs'), { maxWorkers: size });
      return { call: (x) => pool.exec('inc', [x]) as PromiseLike<number>, close: () => Promise.resolve(pool.terminate()) };
    },
  },
];

// Submits `calls` calls at once, awaits them all, checks the results; seconds taken
async function batch(contestant: Contestant, calls: number): Promise<number> {
  const start = process.hrtime.bigint();
  const results = await Promise.all(Array.from({ length: calls }, (_, i) => contestant.call(i)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (let i = 0; i < calls; i++) {
    if (results[i] !== i + 1) throw new Error(`${contestant.name}: call ${i} returned ${String(results[i])}, not ${i + 1}`);
  }
  return seconds;
}

// Microseconds of each of `calls` calls awaited one after the other
async function roundTrips(contestant: Contestant, calls: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = process.hrtime.bigint();
    const value = await contestant.call(i);
    times.push(Number(process.hrtime.bigint() - start) / 1e3);
    if (value !== i + 1) throw new Error(`${contestant.name}: call ${i} returned ${String(value)}, not ${i + 1}`);
  }
  return times;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// The value below which `p` percent of the values lie (nearest rank)
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runFutures(options: FuturesOptions = {}): Promise<FuturesReport> {
  const calls = options.calls ?? 20_000;
  const warmup = options.warmup ?? 2_000;
  const rounds = options.rounds ?? 3;
  const latencyCalls = options.latencyCalls ?? 1_000;
  const started: Contestant[] = [];
  try {
    for (const { name, start } of contestants) started.push({ ...start(), name });
    for (const contestant of started) await batch(contestant, warmup); // starts the workers, compiles the hot paths
    // Rounds interleaved, in a rotating order, so that the machine's drift hits every pool alike
    const times = started.map((): number[] => []);
    for (let r = 0; r < rounds; r++) {
      for (const i of rotation(started.length, r)) times[i]!.push(await batch(started[i]!, calls));
    }
    options.log?.('measured: calls/s');
    // Latency: a warm-up of the one-call-at-a-time path, then blocks of 100 sequential calls, interleaved
    const latencies = started.map((): number[] => []);
    for (const contestant of started) await roundTrips(contestant, Math.min(100, latencyCalls));
    for (let done = 0, block = 0; done < latencyCalls; done += 100, block++) {
      const count = Math.min(100, latencyCalls - done);
      for (const i of rotation(started.length, block)) latencies[i]!.push(...await roundTrips(started[i]!, count));
    }
    options.log?.('measured: latency');
    const results = started.map(({ name }, i): FuturesResult => ({
      name,
      callsPerSecond: Math.round(calls / median(times[i]!)),
      rounds: times[i]!,
      latencyUs: { p50: round1(percentile(latencies[i]!, 50)), p99: round1(percentile(latencies[i]!, 99)) },
    }));
    return { calls, warmup, rounds, latencyCalls, workers: size, results };
  } finally {
    // every pool, even after a failure, so that the process can exit
    await Promise.allSettled(started.map((c) => c.close()));
  }
}

// 0..n-1 starting at `shift` (mod n)
function rotation(n: number, shift: number): number[] {
  return Array.from({ length: n }, (_, i) => (i + shift) % n);
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

// polytask's figure over a peer's, as "0.80x"
function ratio(polytask: number, peer: number): string {
  return `${(polytask / peer).toFixed(2)}x`;
}

// The two markdown tables: throughput, and latency of one call at a time
export function formatFutures(report: FuturesReport): string {
  const [polytask] = report.results;
  if (polytask === undefined) return '';
  const n = (value: number) => value.toLocaleString('en');
  const lines = [
    `${n(report.calls)} trivial calls (\`x => x + 1\`) submitted at once and awaited with Promise.all, ${report.workers} workers, ` +
      `median of ${report.rounds} rounds after a ${n(report.warmup)}-call warm-up`,
    '',
    '| pool | calls/s | polytask / this |',
    '| --- | ---: | ---: |',
    ...report.results.map((r) => `| ${r.name} | ${n(r.callsPerSecond)} | ${ratio(polytask.callsPerSecond, r.callsPerSecond)} |`),
    '',
    `One call at a time on a warm pool: \`await call(x)\`, ${n(report.latencyCalls)} sequential calls, round trip in microseconds ` +
      '(polytask / this above 1x: polytask is slower)',
    '',
    '| pool | p50 us | p99 us | polytask / this, p50 | polytask / this, p99 |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...report.results.map((r) => `| ${r.name} | ${r.latencyUs.p50} | ${r.latencyUs.p99} | ` +
      `${ratio(polytask.latencyUs.p50, r.latencyUs.p50)} | ${ratio(polytask.latencyUs.p99, r.latencyUs.p99)} |`),
  ];
  return lines.join('\n');
}
