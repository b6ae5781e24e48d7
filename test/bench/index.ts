// `npm run bench`: two suites, measured in the same run, never part of `npm test`.
//   stream:  items/s of `polytask run` beside Python's own pools, on the same input
//   futures: calls/s and latency of `task()` beside tinypool, piscina and workerpool (futures.ts)
// Usage: node dist/test/bench/index.js [stream|futures] [items] [--json]
// With no suite named, both run; `items` is the stream suite's item count. Prints markdown
// tables, or with --json one JSON object with a key per suite run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatFutures, runFutures, type FuturesReport } from './futures.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..', '..', '..');
const bin = path.join(repo, 'bin', 'polytask.js');
const peers = path.join(repo, 'test', 'bench', 'peers.py');
const suiteNames = ['stream', 'futures'] as const;
type SuiteName = (typeof suiteNames)[number];

const args = process.argv.slice(2);
const json = args.includes('--json');
const unknown = args.filter((a) => a !== '--json' && !/^\d+$/.test(a) && !suiteNames.includes(a as SuiteName));
if (unknown.length > 0) {
  process.stderr.write(`unknown argument ${unknown.join(' ')}\nusage: node dist/test/bench/index.js [stream|futures] [items] [--json]\n`);
  process.exit(2);
}
const named = suiteNames.filter((s) => args.includes(s));
const suites: readonly SuiteName[] = named.length > 0 ? named : suiteNames;
const items = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const log = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

interface Scenario {
  name: string;
  // seconds for one round
  run: () => number;
  // seconds of the same command over one item: its fixed cost (start-up and shutdown)
  fixed?: () => number;
}

interface StreamResult {
  name: string;
  itemsPerSecond: number;
  rounds: number[];
  vsPoolChunksize1: number;
  // polytask only: the one-item run, and the rate once that fixed cost is taken out
  fixedSeconds?: number;
  itemsPerSecondAfterStartup?: number;
}

interface StreamReport {
  items: number;
  rounds: number;
  results: StreamResult[];
}

function timeCommand(command: string, commandArgs: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${command} ${commandArgs.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// The stream suite: the same job through `polytask run` and through Python's pools
function runStream(): StreamReport {
  const dir = mkdtempSync(path.join(tmpdir(), 'polytask-bench-'));
  const input = path.join(dir, 'items.jsonl');
  writeFileSync(input, Array.from({ length: items }, (_, i) => JSON.stringify({ i, name: `item-${i}` })).join('\n') + '\n');
  const oneItem = path.join(dir, 'one.jsonl');
  writeFileSync(oneItem, `${JSON.stringify({ i: 0, name: 'item-0' })}\n`);
  const specs = {
    node: path.join(dir, 'node.yml'),
    python3: path.join(dir, 'python3.yml'),
  };
  writeFileSync(specs.node, 'exec_type: node\nexec_info:\n  code: "export const main = (event) => event"\n');
  writeFileSync(specs.python3, 'exec_type: python3\nexec_info:\n  code: "def main(event, context):\\n    return event\\n"\n');

  const pythonPeer = (kind: string): number => {
    const r = spawnSync('python3', [peers, kind, input], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`python3 peers.py ${kind} failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { seconds: number }).seconds;
  };

  const polytask = (spec: string, data: string) => () => timeCommand(process.execPath, [bin, 'run', '-s', spec, '-d', data, '-p', '2']);
  const scenarios: Scenario[] = [
    { name: 'polytask run, node handler, 2 processes', run: polytask(specs.node, input), fixed: polytask(specs.node, oneItem) },
    { name: 'polytask run, python3 handler, 2 processes', run: polytask(specs.python3, input), fixed: polytask(specs.python3, oneItem) },
    { name: 'multiprocessing.Pool(2).imap_unordered, chunksize 1', run: () => pythonPeer('pool') },
    { name: 'multiprocessing.Pool(2).imap_unordered, chunksize auto', run: () => pythonPeer('pool-auto') },
    { name: 'concurrent.futures.ProcessPoolExecutor(2).map', run: () => pythonPeer('executor') },
  ];

  const results: Omit<StreamResult, 'vsPoolChunksize1'>[] = [];
  for (const scenario of scenarios) {
    scenario.run(); // warm-up: file cache, interpreter start-up
    const times = Array.from({ length: rounds }, () => scenario.run());
    const result: Omit<StreamResult, 'vsPoolChunksize1'> = { name: scenario.name, itemsPerSecond: Math.round(items / median(times)), rounds: times };
    if (scenario.fixed !== undefined) {
      const fixed = median(Array.from({ length: rounds }, () => scenario.fixed!()));
      result.fixedSeconds = fixed;
      result.itemsPerSecondAfterStartup = Math.round((items - 1) / (median(times) - fixed));
    }
    results.push(result);
    log(`measured: ${scenario.name}`);
  }
  const baseline = results.find((r) => r.name.includes('chunksize 1'))!.itemsPerSecond;
  return { items, rounds, results: results.map((r) => ({ ...r, vsPoolChunksize1: r.itemsPerSecond / baseline })) };
}

function formatStream(report: StreamReport): string {
  const na = '-';
  return [
    `${report.items} trivial items, JSON lines in and out, median of ${report.rounds} rounds after a warm-up.`,
    'items/s: wall time of the whole command for polytask (start-up included), from the creation of the pool for Python.',
    'one item: the same polytask command over one item (its fixed cost); after start-up: (items - 1) / (wall - one item).',
    '',
    '| scenario | items/s | vs Pool(2) chunksize 1 | one item (s) | items/s after start-up |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...report.results.map((r) => `| ${r.name} | ${r.itemsPerSecond.toLocaleString('en')} | ${r.vsPoolChunksize1.toFixed(2)}x | ${r.fixedSeconds?.toFixed(3) ?? na} | ${r.itemsPerSecondAfterStartup?.toLocaleString('en') ?? na} |`),
  ].join('\n');
}

const out: { stream?: StreamReport; futures?: FuturesReport } = {};
for (const suite of suites) {
  if (suite === 'stream') {
    out.stream = runStream();
    if (!json) console.log(`\n${formatStream(out.stream)}\n`);
  } else {
    out.futures = await runFutures({ rounds, log });
    if (!json) console.log(`\n${formatFutures(out.futures)}\n`);
  }
}
if (json) console.log(JSON.stringify(out, null, 2));
