// The issues' targets (7, 13, 15, 16 and 17) for this 2-core machine, checked against the figures of this run.
import { fmt, table } from './common.js';
import type { AsyncReport } from './async.js';
import type { FuturesReport } from './futures.js';
import type { LatencyReport } from './latency.js';
import type { MemoryReport, SlowFirstReport } from './memory.js';
import type { RemoteReport } from './remote.js';
import type { ScalingReport } from './scaling.js';
import type { StreamReport } from './stream.js';
import type { TransferReport } from './transfer.js';

export interface Target {
  target: string;
  measured: string;
  // undefined: no figure for it in this run
  met: boolean | undefined;
}

export interface Reports {
  stream?: StreamReport[];
  futures?: FuturesReport;
  async?: AsyncReport;
  transfer?: TransferReport;
  latency?: LatencyReport;
  memory?: MemoryReport;
  slowFirst?: SlowFirstReport;
  scaling?: ScalingReport;
  remote?: RemoteReport;
}

export function checkTargets(out: Reports): Target[] {
  const targets: Target[] = [];
  for (const report of out.stream ?? []) {
    const n = fmt.int(report.items);
    const pool = report.results.find((r) => r.name.includes('chunksize 1'));
    const limit = report.results.find((r) => r.kind === 'limit');
    if (pool !== undefined) {
      targets.push({ target: `stream, ${n} items: python3 handler >= 2x Pool(2).imap_unordered chunksize 1`, measured: fmt.x(pool.python3OverThis), met: pool.python3OverThis >= 2 });
    }
    const script = report.results.find((r) => r.name.startsWith('script by hand'));
    if (script !== undefined) {
      targets.push({ target: `stream, ${n} items (issue 17): python3 handler >= 1.5x the chunked Pool script`, measured: fmt.x(script.python3OverThis), met: script.python3OverThis >= 1.5 });
    }
    const auto = report.results.find((r) => r.name.includes('chunksize auto'));
    if (auto !== undefined) {
      targets.push({ target: `stream, ${n} items (issue 17): python3 handler >= 1x Pool(2).imap_unordered chunksize auto`, measured: fmt.x(auto.python3OverThis), met: auto.python3OverThis >= 1 });
    }
    const gnuNode = report.results.find((r) => r.name.startsWith('GNU parallel') && r.name.endsWith('node'));
    if (gnuNode !== undefined) {
      targets.push({ target: `stream, ${n} items (issue 17): node handler >= 1x GNU parallel --pipe -j2 with node`, measured: fmt.x(gnuNode.nodeOverThis), met: gnuNode.nodeOverThis >= 1 });
    }
    if (limit !== undefined) {
      // within 1.5x of the limit: at least 1 / 1.5 of its rate
      targets.push({ target: `stream, ${n} items: node handler within 1.5x of the raw IPC limit (>= 0.67x)`, measured: fmt.x(limit.nodeOverThis), met: limit.nodeOverThis >= 1 / 1.5 });
    }
  }
  for (const run of out.futures?.runs ?? []) {
    for (const [peer, want] of [['tinypool', 1.5], ['piscina', 1.5], ['workerpool', 2]] as const) {
      const r = run.results.find((x) => x.name.startsWith(peer));
      if (r !== undefined) targets.push({ target: `futures, ${fmt.int(run.calls)} calls: >= ${want}x ${peer}`, measured: fmt.x(r.polytaskOverThis), met: r.polytaskOverThis >= want });
    }
  }
  const waited = out.async?.results.find((r) => r.kind === 'polytask');
  if (waited !== undefined) {
    targets.push({ target: `async (issue 13), ${out.async!.calls} calls of ${out.async!.waitMs} ms on ${out.async!.workers} workers: under 1 s`, measured: `${fmt.s(waited.seconds)} s`, met: waited.seconds < 1 });
  }
  const moved = out.transfer?.results.find((r) => r.name.includes('move('));
  const piscina = out.transfer?.results.find((r) => r.kind === 'peer');
  if (moved !== undefined && piscina !== undefined) {
    const ratio = piscina.ms / moved.ms;
    targets.push({ target: `transfer (issue 16), ${out.transfer!.calls} calls with ${out.transfer!.mb} MB: move() >= 1x piscina with Piscina.move()`, measured: fmt.x(ratio), met: ratio >= 1 });
  }
  for (const r of out.latency?.start.filter((x) => x.name.includes('one item')) ?? []) {
    const handler = r.name.includes('python3') ? 'python3' : 'node';
    targets.push({ target: `one item end to end, ${handler} handler: within 150 ms of the floor`, measured: `+${fmt.ms(r.aboveFloor)} ms`, met: r.aboveFloor <= 0.15 });
  }
  for (const r of out.memory?.rows.filter((x) => x.overSmallest !== 1) ?? []) {
    targets.push({ target: `memory, ${r.handler} handler: ${fmt.int(r.items)} items <= 1.1x the peak tree RSS of the fewest`, measured: `${r.overSmallest.toFixed(3)}x`, met: r.overSmallest <= 1.1 });
  }
  if (out.slowFirst !== undefined) {
    const r = out.slowFirst;
    targets.push({ target: `memory, --keep-order, first item slow: parent peak RSS <= 1.5x the run without (issue 13)`, measured: `${r.ratio.toFixed(2)}x`, met: r.ratio <= 1.5 });
  }
  for (const r of out.scaling?.rows.filter((x) => x.kind === 'polytask') ?? []) {
    // "should approach 2x": not one of the numbered targets, reported beside the machine's own reference
    const pool = out.scaling?.rows.find((x) => x.kind === 'peer');
    targets.push({
      target: `scaling, ${r.name.replace('polytask run, ', '')}: -p 2 approaches 2x -p 1 (Pool(2)/Pool(1) here: ${fmt.x(pool?.speedup)})`,
      measured: `${fmt.x(r.speedup)} (${fmt.x(r.speedupAfterStartup)} after start-up)`,
      met: undefined,
    });
  }
  const remote = out.remote;
  if (remote !== undefined && remote.skipped === undefined) {
    targets.push(
      { target: `remote (issue 15), ${fmt.int(remote.items)} items, one worker -p 2: >= 150,000 items/s end to end`, measured: fmt.int(remote.polytask), met: remote.polytask >= 150_000 },
      { target: `remote: >= 0.8x raw BullMQ with ${remote.perJob} items per job`, measured: fmt.x(remote.polytask / remote.bullmqBlocks), met: remote.polytask / remote.bullmqBlocks >= 0.8 },
      { target: 'remote: >= 30x BullMQ at one job per item', measured: fmt.x(remote.polytask / remote.bullmqSingle), met: remote.polytask / remote.bullmqSingle >= 30 },
      { target: `remote: Redis used_memory after ${fmt.int(remote.bigItems)} items < 2 MB`, measured: `${remote.redisUsedMb.toFixed(2)} MB 3 s after the run (${remote.redisAtEndMb.toFixed(2)} MB as it ended; ${remote.redisUsedMb >= remote.redisWarmMb ? '+' : ''}${fmt.mb(remote.redisUsedMb - remote.redisWarmMb)} MB over the first run; ${fmt.mb(remote.redisNoStatsMb)} MB without Redis's latency histograms)`, met: remote.redisUsedMb < 2 },
      { target: `remote: producer peak RSS at ${fmt.int(remote.bigItems)} items <= 1.1x at ${fmt.int(remote.items)}`, measured: fmt.x(remote.producerPeakMb[1] / remote.producerPeakMb[0]), met: remote.producerPeakMb[1] / remote.producerPeakMb[0] <= 1.1 },
      { target: 'remote: a worker killed with -9, the run ends within 15 s', measured: `${remote.recoverySeconds.toFixed(1)} s`, met: remote.recoverySeconds < 15 },
    );
  }
  return targets;
}

export function formatTargets(targets: Target[]): string {
  return table(['target', 'measured', 'met'], targets.map((t) => [t.target, t.measured, t.met === undefined ? 'n/a' : t.met ? 'yes' : 'no']));
}
