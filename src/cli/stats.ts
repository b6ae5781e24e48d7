// `polytask run --stats`: the pool's figures as a few lines on stderr, at the end of the run;
// `--stats-file FILE`: the same figures as JSON, for tools
import { writeFile } from 'node:fs/promises';
import type { PoolStats } from '../pool/process/stats.js';

/** The figures --stats prints, as one JSON object (written to `file`) */
export async function writeStatsFile(file: string, stats: PoolStats, elapsedMs: number): Promise<void> {
  const seconds = elapsedMs / 1000;
  const figures = { elapsedSeconds: Math.round(seconds * 1000) / 1000, itemsPerSecond: seconds > 0 ? Math.round(stats.done / seconds) : 0, ...stats };
  await writeFile(file, `${JSON.stringify(figures, null, 2)}\n`);
}

export function formatStats(stats: PoolStats, elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(stats.done / seconds) : 0;
  const lines = [
    `polytask: stats: ${stats.done} items in ${seconds.toFixed(2)} s (${rate} items/s), ${stats.failed} failed, ${stats.retried} retries, ${stats.timedOut} timed out, ${stats.crashes} child crashes, ${stats.recycled} children recycled`,
    `polytask: stats: item latency p50 ${stats.latency.p50} ms, p99 ${stats.latency.p99} ms, max ${stats.latency.max} ms (from sending to the child to its result)`,
    ...stats.workers.map((w) => `polytask: stats: child ${w.id}: ${w.items} items, ${w.cpuSeconds.toFixed(2)} s CPU, peak RSS ${w.peakRssMb.toFixed(1)} MB, ${w.restarts} restarts`),
  ];
  return `${lines.join('\n')}\n`;
}
