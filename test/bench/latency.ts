// Latency (issue 7, scenario 3). One item end to end: start `polytask run`, one item, exit,
// beside the floor (`node -e 0` plus `python3 -c pass`, the two interpreters' start-up).
// And one `await call(x)` round trip on a warm pool (p50, p99), polytask's task() beside the
// pools of the futures suite.
import path from 'node:path';
import { bin, fmt, median, percentile, python3, table, tempDir, timeCommand, writeItems, writeSpec, type BenchContext } from './common.js';
import { closePools, rotation, roundTrips, startPools, type Contestant } from './pools.js';

export interface StartResult {
  name: string;
  seconds: number;
  rounds: number[];
  // seconds above the floor (node -e 0 plus python3 -c pass)
  aboveFloor: number;
}

export interface RoundTripResult {
  name: string;
  kind: Contestant['kind'];
  p50us: number;
  p99us: number;
  // polytask's over this one's: above 1, polytask is slower
  polytaskOverThisP50: number;
  polytaskOverThisP99: number;
}

export interface LatencyReport {
  startRounds: number;
  start: StartResult[];
  floorSeconds: number;
  roundTripCalls: number;
  roundTrips: RoundTripResult[];
}

function startUp(ctx: BenchContext, rounds: number): { start: StartResult[]; floorSeconds: number } {
  const dir = tempDir();
  const one = writeItems(path.join(dir, 'one.jsonl'), 1);
  const nodeSpec = writeSpec(path.join(dir, 'node.yml'), 'node');
  const pythonSpec = writeSpec(path.join(dir, 'python3.yml'), 'python3');
  const commands: { name: string; run: () => number }[] = [
    { name: '`node -e 0`', run: () => timeCommand(process.execPath, ['-e', '0']) },
    { name: "`python3 -c 'pass'`", run: () => timeCommand(python3, ['-c', 'pass']) },
    { name: '`polytask --version` (loading the CLI only)', run: () => timeCommand(process.execPath, [bin, '--version']) },
    { name: '`polytask run -p 2`, one item, node handler', run: () => timeCommand(process.execPath, [bin, 'run', '-s', nodeSpec, '-d', one, '-p', '2']) },
    { name: '`polytask run -p 2`, one item, python3 handler', run: () => timeCommand(process.execPath, [bin, 'run', '-s', pythonSpec, '-d', one, '-p', '2']) },
  ];
  for (const c of commands) c.run(); // warm-up
  const times = commands.map((): number[] => []);
  for (let r = 0; r < rounds; r++) for (const i of rotation(commands.length, r)) times[i]!.push(commands[i]!.run());
  const medians = times.map(median);
  const floorSeconds = medians[0]! + medians[1]!;
  ctx.log('latency: measured one item end to end');
  return {
    floorSeconds,
    start: commands.map((c, i) => ({ name: c.name, seconds: medians[i]!, rounds: times[i]!, aboveFloor: medians[i]! - floorSeconds })),
  };
}

async function warmRoundTrips(ctx: BenchContext, calls: number): Promise<RoundTripResult[]> {
  const pools = startPools();
  try {
    // a warm-up of the one-call-at-a-time path, then blocks of 100 sequential calls, interleaved
    for (const pool of pools) await roundTrips(pool, 200);
    const latencies = pools.map((): number[] => []);
    for (let done = 0, block = 0; done < calls; done += 100, block++) {
      const count = Math.min(100, calls - done);
      for (const i of rotation(pools.length, block)) latencies[i]!.push(...await roundTrips(pools[i]!, count));
    }
    ctx.log('latency: measured round trips on warm pools');
    const p = latencies.map((l) => ({ p50: percentile(l, 50), p99: percentile(l, 99) }));
    const own = p[pools.findIndex((c) => c.kind === 'polytask')]!;
    return pools.map((c, i) => ({
      name: c.name, kind: c.kind, p50us: round1(p[i]!.p50), p99us: round1(p[i]!.p99),
      polytaskOverThisP50: own.p50 / p[i]!.p50, polytaskOverThisP99: own.p99 / p[i]!.p99,
    }));
  } finally {
    await closePools(pools);
  }
}

export async function runLatency(ctx: BenchContext, startRounds: number, roundTripCalls: number): Promise<LatencyReport> {
  const { start, floorSeconds } = startUp(ctx, startRounds);
  return { startRounds, start, floorSeconds, roundTripCalls, roundTrips: await warmRoundTrips(ctx, roundTripCalls) };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function formatLatency(report: LatencyReport): string {
  return [
    `One item end to end: wall time of the whole command, median of ${report.startRounds} rounds after a warm-up. ` +
      `Floor: \`node -e 0\` plus \`python3 -c 'pass'\` = ${fmt.ms(report.floorSeconds)} ms.`,
    '',
    table(['command', 'ms', 'above the floor (ms)'], report.start.map((r) => [r.name, fmt.ms(r.seconds), r.name.includes('polytask') ? fmt.ms(r.aboveFloor) : '-'])),
    '',
    `One call at a time on a warm pool: \`await call(x)\`, ${fmt.int(report.roundTripCalls)} sequential calls in blocks of 100, ` +
      'the pools taking turns; round trip in microseconds (polytask / this above 1x: polytask is slower).',
    '',
    table(
      ['pool', 'p50 us', 'p99 us', 'polytask / this, p50', 'polytask / this, p99'],
      report.roundTrips.map((r) => [r.name, String(r.p50us), String(r.p99us), fmt.x(r.polytaskOverThisP50), fmt.x(r.polytaskOverThisP99)]),
    ),
  ].join('\n');
}
