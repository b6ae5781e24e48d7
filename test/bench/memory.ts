// Memory (issue 7, scenario 4): peak RSS of the whole process tree of `polytask run -p 2`
// (the parent and its children) over N versus 10 N items, node and python3 handlers. The tree
// is sampled from /proc every 20 ms (/proc/<pid>/task/<tid>/children, VmRSS, utime + stime),
// so the CPU seconds per process come from the same samples (the last 20 ms are missed).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin, fmt, seconds, table, tempDir, writeItems, writeSpec, type BenchContext } from './common.js';

export interface TreeSample {
  wallSeconds: number;
  // the peak of the sum of every process's RSS, in MB
  peakTreeMb: number;
  parentPeakMb: number;
  // the sum of each child's own peak
  childrenPeakMb: number;
  parentCpuSeconds: number;
  childrenCpuSeconds: number;
  processes: number;
}

export interface MemoryRow extends TreeSample {
  handler: 'node' | 'python3';
  items: number;
  // this run's peak tree RSS over the smaller run's (same handler)
  overSmallest: number;
}

export interface MemoryReport {
  intervalMs: number;
  rounds: number;
  rows: MemoryRow[];
}

const intervalMs = 20;
const tick = 100; // clock ticks per second of /proc/<pid>/stat on Linux

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // gone between two reads
  }
}

// The pid and every descendant (the children of each of its threads)
function tree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${all[i]!}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      for (const child of (read(`/proc/${all[i]!}/task/${tid}/children`) ?? '').split(' ')) if (child !== '') all.push(Number(child));
    }
  }
  return all;
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? '');
  return match === null ? 0 : Number(match[1]) / 1024;
}

function cpuSeconds(pid: number): number {
  const stat = read(`/proc/${pid}/stat`) ?? '';
  // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / tick;
}

// Runs a command to its end, sampling its process tree
export function sampleTree(command: string, args: string[]): Promise<TreeSample> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const root = child.pid!;
    let peakTree = 0;
    const peak = new Map<number, number>();
    const cpu = new Map<number, number>();
    const sample = () => {
      let sum = 0;
      for (const pid of tree(root)) {
        const rss = rssMb(pid);
        sum += rss;
        peak.set(pid, Math.max(peak.get(pid) ?? 0, rss));
        cpu.set(pid, Math.max(cpu.get(pid) ?? 0, cpuSeconds(pid)));
      }
      peakTree = Math.max(peakTree, sum);
    };
    const timer = setInterval(sample, intervalMs);
    sample();
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr}`));
      const others = [...peak.keys()].filter((pid) => pid !== root);
      resolve({
        wallSeconds: seconds(start),
        peakTreeMb: peakTree,
        parentPeakMb: peak.get(root) ?? 0,
        childrenPeakMb: others.reduce((sum, pid) => sum + peak.get(pid)!, 0),
        parentCpuSeconds: cpu.get(root) ?? 0,
        childrenCpuSeconds: others.reduce((sum, pid) => sum + cpu.get(pid)!, 0),
        processes: peak.size,
      });
    });
  });
}

export async function runMemory(ctx: BenchContext, counts: number[]): Promise<MemoryReport> {
  const dir = tempDir();
  const rows: MemoryRow[] = [];
  const inputs = counts.map((items) => writeItems(path.join(dir, `items-${items}.jsonl`), items));
  for (const handler of ['node', 'python3'] as const) {
    const spec = writeSpec(path.join(dir, `${handler}.yml`), handler);
    const first: MemoryRow[] = [];
    for (const [k, items] of counts.entries()) {
      const input = inputs[k]!;
      // the round with the median peak tree RSS
      const samples: TreeSample[] = [];
      for (let r = 0; r < ctx.rounds; r++) samples.push(await sampleTree(process.execPath, [bin, 'run', '-s', spec, '-d', input, '-p', '2']));
      const sample = samples.sort((a, b) => a.peakTreeMb - b.peakTreeMb)[Math.floor(samples.length / 2)]!;
      const row: MemoryRow = { handler, items, ...sample, overSmallest: sample.peakTreeMb / (first[0]?.peakTreeMb ?? sample.peakTreeMb) };
      first.push(row);
      rows.push(row);
      ctx.log(`memory: measured ${handler} ${items}`);
    }
  }
  return { intervalMs, rounds: ctx.rounds, rows };
}

export function formatMemory(report: MemoryReport): string {
  const us = (cpu: number, items: number) => ((cpu / items) * 1e6).toFixed(1);
  return [
    `\`polytask run -p 2\` over trivial items, the process tree sampled from /proc every ${report.intervalMs} ms; ` +
      `of ${report.rounds} runs each, the one with the median peak (no warm-up: the first run is a run like the others). ` +
      'Peak tree RSS: the peak of the sum over the parent and its children. CPU per item: from the last sample of each process.',
    '',
    table(
      ['handler', 'items', 'wall (s)', 'peak tree RSS (MB)', 'vs fewest items', 'parent peak (MB)', 'children peak (MB)', 'processes', 'parent CPU us/item', 'children CPU us/item'],
      report.rows.map((r) => [
        r.handler, fmt.int(r.items), r.wallSeconds.toFixed(2), fmt.mb(r.peakTreeMb), `${r.overSmallest.toFixed(3)}x`, fmt.mb(r.parentPeakMb),
        fmt.mb(r.childrenPeakMb), String(r.processes), us(r.parentCpuSeconds, r.items), us(r.childrenCpuSeconds, r.items),
      ]),
    ),
  ].join('\n');
}

export interface SlowFirstReport {
  items: number;
  resultBytes: number;
  slowMs: number;
  // parent peak RSS (MB) with the slow first item and without it, and their ratio
  slowPeakMb: number;
  plainPeakMb: number;
  ratio: number;
}

// Issue 13, point 9: `polytask run -p 2 --keep-order` over `items` items whose results are 10 KB,
// the first item slow or not; the parent's peak RSS of each (one run each, no median)
export async function runSlowFirst(ctx: BenchContext, items: number, slowMs = 3000): Promise<SlowFirstReport> {
  const dir = tempDir();
  const resultBytes = 10_000;
  const input = path.join(dir, 'numbers.jsonl');
  writeFileSync(input, Array.from({ length: items }, (_, i) => `${i}\n`).join(''));
  const spec = (slow: number) => writeSpec(path.join(dir, `slow-${slow}.yml`), 'node',
    `export const main = async (i) => { if (i === 0) await new Promise((r) => setTimeout(r, ${slow})); return 'x'.repeat(${resultBytes}); }`);
  const run = async (slow: number) => (await sampleTree(process.execPath, [bin, 'run', '-s', spec(slow), '-d', input, '-p', '2', '--keep-order'])).parentPeakMb;
  const plainPeakMb = await run(0);
  const slowPeakMb = await run(slowMs);
  ctx.log(`memory: measured the slow first item over ${items} items`);
  return { items, resultBytes, slowMs, slowPeakMb, plainPeakMb, ratio: slowPeakMb / plainPeakMb };
}

export function formatSlowFirst(r: SlowFirstReport): string {
  return [
    `\`polytask run -p 2 --keep-order\` over ${fmt.int(r.items)} items with ${fmt.int(r.resultBytes)}-byte results, the first item ` +
      `taking ${r.slowMs} ms or not; the parent's peak RSS, one run each. Target (issue 13): the slow run within 1.5x.`,
    '',
    table(['run', 'parent peak RSS (MB)'], [
      ['no slow item', fmt.mb(r.plainPeakMb)],
      [`first item ${r.slowMs} ms`, fmt.mb(r.slowPeakMb)],
      ['slow / not', `${r.ratio.toFixed(2)}x`],
    ]),
  ].join('\n');
}
