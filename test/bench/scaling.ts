// CPU-bound scaling (issue 7, scenario 5): a handler burning about 5 ms of CPU per item (a fixed
// loop, so that the work does not shrink or grow with the load), `polytask run -p 1` versus
// `-p 2`, node and python3 handlers; beside multiprocessing.Pool(1) versus Pool(2) on the same
// Python loop, as the machine's own reference for what 2 processes can gain here.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { bin, fmt, median, python3, sources, table, tempDir, timeCommand, writeItems, writeSpec, type BenchContext } from './common.js';
import { rotation } from './pools.js';

// (a handler returning a number would set the item's exit status: they return { x })
// loop iterations for about 5 ms of CPU on this machine (2-vCPU VM, Node 20, Python 3.11)
export const nodeIterations = 5_000_000;
export const pythonIterations = 120_000;

const nodeBurn = `export const main = () => { let x = 0; for (let i = 0; i < ${nodeIterations}; i++) x = (x * 31 + i) | 0; return { x }; };`;
const pythonBurn = `def main(event, context):\n    x = 0\n    for i in range(${pythonIterations}):\n        x = (x * 31 + i) & 0xffffff\n    return {'x': x}\n`;

export interface ScalingRow {
  name: string;
  kind: 'polytask' | 'peer';
  // seconds (median) with 1 and 2 processes
  p1: number;
  p2: number;
  // p1 / p2 on the whole wall time, and once each one-item run (the fixed cost) is taken out
  speedup: number;
  speedupAfterStartup?: number;
  // CPU ms per item, estimated from the 1-process run after start-up
  msPerItem: number;
}

export interface ScalingReport {
  items: number;
  rounds: number;
  rows: ScalingRow[];
}

export function runScaling(ctx: BenchContext, items: number): ScalingReport {
  const dir = tempDir();
  const input = writeItems(path.join(dir, 'items.jsonl'), items);
  const one = writeItems(path.join(dir, 'one.jsonl'), 1);
  const specs = { node: writeSpec(path.join(dir, 'node.yml'), 'node', nodeBurn), python3: writeSpec(path.join(dir, 'python3.yml'), 'python3', pythonBurn) };
  const polytask = (spec: string, file: string, p: number) => () => timeCommand(process.execPath, [bin, 'run', '-s', spec, '-d', file, '-p', String(p)]);
  const pool = (p: number) => () => {
    const r = spawnSync(python3, [path.join(sources, 'peers.py'), 'burn', String(p), String(items), String(pythonIterations)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`peers.py burn failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { seconds: number }).seconds;
  };
  const cases: { name: string; kind: ScalingRow['kind']; p1: () => number; p2: () => number; fixed?: [() => number, () => number] }[] = [
    ...(['node', 'python3'] as const).map((h) => ({
      name: `polytask run, ${h} handler`, kind: 'polytask' as const,
      p1: polytask(specs[h], input, 1), p2: polytask(specs[h], input, 2),
      fixed: [polytask(specs[h], one, 1), polytask(specs[h], one, 2)] as [() => number, () => number],
    })),
    { name: 'multiprocessing.Pool(n).imap_unordered, chunksize 1 (from the creation of the pool)', kind: 'peer', p1: pool(1), p2: pool(2) },
  ];
  // every run, as a flat list taking turns round by round: a warm-up, then `rounds`
  const runs = cases.flatMap((c) => [c.p1, c.p2, ...(c.fixed ?? [])]);
  for (const run of runs) run();
  const times = runs.map((): number[] => []);
  for (let r = 0; r < ctx.rounds; r++) for (const i of rotation(runs.length, r)) times[i]!.push(runs[i]!());
  const m = (run: () => number) => median(times[runs.indexOf(run)]!);
  ctx.log('scaling: measured');
  const rows = cases.map((c): ScalingRow => {
    const p1 = m(c.p1);
    const p2 = m(c.p2);
    const f1 = c.fixed === undefined ? 0 : m(c.fixed[0]);
    const f2 = c.fixed === undefined ? 0 : m(c.fixed[1]);
    return {
      name: c.name, kind: c.kind, p1, p2, speedup: p1 / p2,
      ...(c.fixed === undefined ? {} : { speedupAfterStartup: (p1 - f1) / (p2 - f2) }),
      msPerItem: ((p1 - f1) / items) * 1000,
    };
  });
  return { items, rounds: ctx.rounds, rows };
}

export function formatScaling(report: ScalingReport): string {
  return [
    `${fmt.int(report.items)} items, each burning about 5 ms of CPU (a fixed loop: ${fmt.int(nodeIterations)} iterations in Node, ` +
      `${fmt.int(pythonIterations)} in Python), 1 versus 2 processes, median of ${report.rounds} rounds after a warm-up. ` +
      'After start-up: each figure less the same command over one item.',
    '',
    table(
      ['scenario', '1 process (s)', '2 processes (s)', 'speed-up', 'speed-up after start-up', 'CPU ms/item (1 process)'],
      report.rows.map((r) => [r.name, r.p1.toFixed(2), r.p2.toFixed(2), fmt.x(r.speedup), fmt.x(r.speedupAfterStartup), r.msPerItem.toFixed(2)]),
    ),
  ].join('\n');
}
