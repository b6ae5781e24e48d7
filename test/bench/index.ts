// `npm run bench`: polytask beside its peers, measured in the same run; never part of `npm test`.
//   stream:  items/s of `polytask run` beside Python's pools, GNU parallel and raw Node IPC (stream.ts)
//   futures: calls/s of task() beside tinypool, piscina, workerpool and bare worker_threads (futures.ts)
//   async:   40 async calls that wait 200 ms on 2 workers, task() beside piscina (async.ts)
//   latency: one item end to end against interpreter start-up; one warm round trip (latency.ts)
//   memory:  peak RSS of the process tree, N versus 10 N items (memory.ts)
//   slowfirst: the parent's peak RSS with --keep-order and a slow first item, against none (memory.ts)
//   scaling: a CPU-bound handler, 1 versus 2 processes (scaling.ts)
//   remote:  polytask run --redis with one worker beside raw BullMQ; Redis memory, recovery (remote.ts)
// Usage: node dist/test/bench/index.js [suite ...] [items] [--quick] [--json] [--charts]
// --charts: also writes the stream, memory and scaling tables as SVG charts into docs/.
// With no suite named, all run. `items` replaces the stream suite's counts with one count.
// --quick divides every count by 10 and takes 1 round unless BENCH_ROUNDS says otherwise.
// BENCH_ROUNDS (default 3): rounds of each figure; BENCH_BIG_ROUNDS (default 3): rounds of the
// stream suite's 1,000,000-item run. Markdown tables on stdout, or with --json one JSON object.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { formatAsync, runAsync, type AsyncReport } from './async.js';
import { writeCharts } from './charts.js';
import { python3, repo, version, which, type BenchContext } from './common.js';
import { formatFutures, runFutures, type FuturesReport } from './futures.js';
import { formatLatency, runLatency, type LatencyReport } from './latency.js';
import { formatMemory, formatSlowFirst, runMemory, runSlowFirst, type MemoryReport, type SlowFirstReport } from './memory.js';
import { formatScaling, runScaling, type ScalingReport } from './scaling.js';
import { formatRemote, runRemote, type RemoteReport } from './remote.js';
import { formatStream, runStream, type StreamReport } from './stream.js';
import { checkTargets, formatTargets, type Target } from './targets.js';
import { formatTransfer, runTransfer, type TransferReport } from './transfer.js';

const suiteNames = ['stream', 'futures', 'async', 'transfer', 'latency', 'memory', 'slowfirst', 'scaling', 'remote'] as const;
type SuiteName = (typeof suiteNames)[number];
const usage = `usage: node dist/test/bench/index.js [${suiteNames.join('|')} ...] [items] [--quick] [--json] [--charts]`;

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const charts = args.includes('--charts');
const unknown = args.filter((a) => a !== '--json' && a !== '--quick' && a !== '--charts' && !/^\d+$/.test(a) && !suiteNames.includes(a as SuiteName));
if (unknown.length > 0) {
  process.stderr.write(`unknown argument ${unknown.join(' ')}\n${usage}\n`);
  process.exit(2);
}
const named = suiteNames.filter((s) => args.includes(s));
const suites: readonly SuiteName[] = named.length > 0 ? named : suiteNames;
const scale = quick ? 10 : 1;
const itemsArg = args.find((a) => /^\d+$/.test(a));
const ctx: BenchContext = {
  rounds: Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3)),
  quick,
  log: (line) => {
    if (!json) process.stderr.write(`${line}\n`);
  },
};
const bigRounds = Number(process.env.BENCH_BIG_ROUNDS ?? 3);
const streamCounts = itemsArg !== undefined ? [Number(itemsArg)] : [100_000 / scale, 1_000_000 / scale];

const npmVersion = (name: string) => `${name} ${(JSON.parse(readFileSync(path.join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version}`;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const machine = {
  date: new Date().toISOString(),
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? '',
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  python3: version(python3, ['--version']),
  parallel: which('parallel') ? version('parallel', ['--version']) : 'GNU parallel not installed',
  npmPeers: ['tinypool', 'piscina', 'workerpool'].map(npmVersion).join(', '),
  loadBefore: load(),
  loadAfter: '',
  seconds: 0,
};
if (!json) {
  console.log(`# polytask benchmarks\n\n${machine.date}, ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}, ` +
    `${machine.python3}, ${machine.parallel}, ${machine.npmPeers}`);
  console.log(`load average (1, 5, 15 min) at the start: ${machine.loadBefore}; rounds: ${ctx.rounds}${quick ? ' (--quick)' : ''}`);
}

const started = process.hrtime.bigint();
const out: {
  machine: typeof machine;
  stream?: StreamReport[];
  futures?: FuturesReport;
  async?: AsyncReport;
  transfer?: TransferReport;
  latency?: LatencyReport;
  memory?: MemoryReport;
  slowFirst?: SlowFirstReport;
  scaling?: ScalingReport;
  remote?: RemoteReport;
  targets?: Target[];
} = { machine };
const print = (title: string, text: string) => {
  if (!json) console.log(`\n## ${title}\n\n${text}\n`);
};
for (const suite of suites) {
  if (suite === 'stream') {
    out.stream = [];
    for (const items of streamCounts) {
      const report = runStream(ctx, items, items >= 500_000 ? bigRounds : ctx.rounds);
      out.stream.push(report);
      print(`Stream throughput, ${items.toLocaleString('en')} items`, formatStream(report));
    }
  } else if (suite === 'futures') {
    out.futures = await runFutures(ctx, [20_000 / scale, 200_000 / scale]);
    print('Futures', formatFutures(out.futures));
  } else if (suite === 'async') {
    out.async = await runAsync(ctx);
    print('Calls that wait', formatAsync(out.async));
  } else if (suite === 'transfer') {
    out.transfer = await runTransfer(ctx);
    print('Large binary arguments', formatTransfer(out.transfer));
  } else if (suite === 'latency') {
    out.latency = await runLatency(ctx, quick ? 5 : 10, quick ? 300 : 1_000);
    print('Latency', formatLatency(out.latency));
  } else if (suite === 'memory') {
    out.memory = await runMemory(ctx, [100_000 / scale, 1_000_000 / scale]);
    print('Memory', formatMemory(out.memory));
  } else if (suite === 'slowfirst') {
    out.slowFirst = await runSlowFirst(ctx, 40_000 / scale);
    print('Memory, a slow first item with --keep-order', formatSlowFirst(out.slowFirst));
  } else if (suite === 'remote') {
    out.remote = await runRemote(ctx, 200_000 / scale);
    print('Scale-out over Redis', formatRemote(out.remote));
  } else {
    out.scaling = runScaling(ctx, quick ? 100 : 400);
    print('CPU-bound scaling', formatScaling(out.scaling));
  }
}
// the targets are set for the full counts: a --quick run's tenth-size figures are not judged
out.targets = quick ? [] : checkTargets(out);
if (quick) print('Targets', 'not judged: --quick divides the counts the targets are set for by 10');
else print('Targets', formatTargets(out.targets));
if (charts) {
  for (const file of writeCharts(path.join(repo, 'docs'), out)) ctx.log(`chart: ${path.relative(repo, file)}`);
}
machine.loadAfter = load();
machine.seconds = Math.round(Number(process.hrtime.bigint() - started) / 1e9);
if (json) console.log(JSON.stringify(out, null, 2));
else console.log(`load average at the end: ${machine.loadAfter}; ${machine.seconds} s in all`);
