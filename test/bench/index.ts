// `npm run bench`: items/s of `polytask run` beside Python's own pools, measured in the same
// run on the same input. Prints a table (and JSON with --json). Never part of `npm test`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..', '..', '..');
const bin = path.join(repo, 'bin', 'polytask.js');
const peers = path.join(repo, 'test', 'bench', 'peers.py');
const args = process.argv.slice(2);
const json = args.includes('--json');
const items = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

const dir = mkdtempSync(path.join(tmpdir(), 'polytask-bench-'));
const input = path.join(dir, 'items.jsonl');
writeFileSync(input, Array.from({ length: items }, (_, i) => JSON.stringify({ i, name: `item-${i}` })).join('\n') + '\n');
const specs = {
  node: path.join(dir, 'node.yml'),
  python3: path.join(dir, 'python3.yml'),
};
writeFileSync(specs.node, 'exec_type: node\nexec_info:\n  code: "export const main = (event) => event"\n');
writeFileSync(specs.python3, 'exec_type: python3\nexec_info:\n  code: "def main(event, context):\\n    return event\\n"\n');

interface Scenario {
  name: string;
  // seconds for one round
  run: () => number;
}

function timeCommand(command: string, commandArgs: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${command} ${commandArgs.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function pythonPeer(kind: string): number {
  const r = spawnSync('python3', [peers, kind, input], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 peers.py ${kind} failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { seconds: number }).seconds;
}

const scenarios: Scenario[] = [
  { name: 'polytask run, node handler, 2 processes', run: () => timeCommand(process.execPath, [bin, 'run', '-s', specs.node, '-d', input, '-p', '2']) },
  { name: 'polytask run, python3 handler, 2 processes', run: () => timeCommand(process.execPath, [bin, 'run', '-s', specs.python3, '-d', input, '-p', '2']) },
  { name: 'multiprocessing.Pool(2).imap_unordered, chunksize 1', run: () => pythonPeer('pool') },
  { name: 'multiprocessing.Pool(2).imap_unordered, chunksize auto', run: () => pythonPeer('pool-auto') },
  { name: 'concurrent.futures.ProcessPoolExecutor(2).map', run: () => pythonPeer('executor') },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const results: { name: string; itemsPerSecond: number; rounds: number[] }[] = [];
for (const scenario of scenarios) {
  scenario.run(); // warm-up: file cache, interpreter start-up
  const times = Array.from({ length: rounds }, () => scenario.run());
  results.push({ name: scenario.name, itemsPerSecond: Math.round(items / median(times)), rounds: times });
  if (!json) process.stderr.write(`measured: ${scenario.name}\n`);
}

const baseline = results.find((r) => r.name.includes('chunksize 1'))!.itemsPerSecond;
if (json) {
  console.log(JSON.stringify({ items, rounds, results: results.map((r) => ({ ...r, vsPoolChunksize1: r.itemsPerSecond / baseline })) }, null, 2));
} else {
  console.log(`\n${items} trivial items, JSON lines in and out, median of ${rounds} rounds after a warm-up (wall time, start-up included)\n`);
  console.log('| scenario | items/s | vs Pool(2) chunksize 1 |');
  console.log('| --- | ---: | ---: |');
  for (const r of results) console.log(`| ${r.name} | ${r.itemsPerSecond.toLocaleString('en')} | ${(r.itemsPerSecond / baseline).toFixed(2)}x |`);
}
