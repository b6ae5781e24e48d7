// Futures throughput (issue 7, scenario 2): calls/s of `task(fn, { concurrency: 2 })` beside
// raw tinypool, piscina and workerpool, 2 workers each, and the limit (2 bare worker_threads,
// one message per call): many trivial calls (`x => x + 1`) submitted at once, then awaited
// with Promise.all. The pools live side by side (idle workers cost no CPU) and take turns,
// round by round in a rotating order, so that the drift of a noisy machine hits them alike.
import { fmt, median, table, type BenchContext } from './common.js';
import { batch, closePools, rotation, size, startPools, type Contestant } from './pools.js';

export interface FuturesResult {
  name: string;
  kind: Contestant['kind'];
  callsPerSecond: number;
  // seconds of each round
  rounds: number[];
  // polytask's calls/s over this one's
  polytaskOverThis: number;
}

export interface FuturesRun {
  calls: number;
  rounds: number;
  results: FuturesResult[];
}

export interface FuturesReport {
  workers: number;
  warmup: number;
  runs: FuturesRun[];
}

export async function runFutures(ctx: BenchContext, counts: number[], warmup = 2_000): Promise<FuturesReport> {
  const pools = startPools();
  try {
    for (const pool of pools) await batch(pool, warmup); // starts the workers, compiles the hot paths
    const runs: FuturesRun[] = [];
    for (const calls of counts) {
      const times = pools.map((): number[] => []);
      for (let r = 0; r < ctx.rounds; r++) {
        for (const i of rotation(pools.length, r)) times[i]!.push(await batch(pools[i]!, calls));
      }
      ctx.log(`futures: measured ${calls} calls`);
      const rates = times.map((t) => calls / median(t));
      const polytask = rates[pools.findIndex((p) => p.kind === 'polytask')]!;
      runs.push({
        calls,
        rounds: ctx.rounds,
        results: pools.map((p, i) => ({
          name: p.name, kind: p.kind, callsPerSecond: Math.round(rates[i]!), rounds: times[i]!, polytaskOverThis: polytask / rates[i]!,
        })),
      });
    }
    return { workers: size, warmup, runs };
  } finally {
    await closePools(pools);
  }
}

export function formatFutures(report: FuturesReport): string {
  return report.runs.map((run) => [
    `${fmt.int(run.calls)} trivial calls (\`x => x + 1\`) submitted at once and awaited with Promise.all, ${report.workers} workers, ` +
      `median of ${run.rounds} rounds after a ${fmt.int(report.warmup)}-call warm-up.`,
    '',
    table(['pool', 'calls/s', 'polytask / this'], run.results.map((r) => [r.name, fmt.int(r.callsPerSecond), fmt.x(r.polytaskOverThis)])),
  ].join('\n')).join('\n\n');
}
