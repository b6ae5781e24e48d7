// Shared pieces of the benchmark suites: paths, timing, medians, the input files and specs,
// and the markdown tables. Every suite measures polytask and its peers in the same run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.join(here, '..', '..', '..');
export const bin = path.join(repo, 'bin', 'polytask.js');
// compiled helpers (raw-ipc.js) sit beside this file in dist/test/bench
export const compiled = here;
// .py and .mjs files are not compiled: they are used from the sources
export const sources = path.join(repo, 'test', 'bench');
export const workers = path.join(sources, 'workers');

// The python3 on PATH, resolved once to the interpreter itself: a pyenv shim (a bash script)
// would add its own start-up (some 40 ms here) and its processes to every figure. polytask's
// children use it too, through POLYTASK_PYTHON3, which is inherited by every command run here.
export const python3 = resolvePython3();
process.env.POLYTASK_PYTHON3 = python3;

function resolvePython3(): string {
  const r = spawnSync(process.env.POLYTASK_PYTHON3 ?? 'python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  const found = r.status === 0 ? r.stdout.trim() : '';
  if (found === '') throw new Error(`no python3 found (${r.error?.message ?? r.stderr})`);
  return found;
}

export interface BenchContext {
  // rounds of each measurement, of which the median is kept
  rounds: number;
  // --quick: every count divided by 10
  quick: boolean;
  // progress lines (stderr; silent with --json)
  log: (line: string) => void;
}

export function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

// Wall seconds of a whole command, its stdout to /dev/null; any exit status but 0 (for polytask
// run, 1 is an item that failed) is an error: no item of these benchmarks may fail
export function timeCommand(command: string, args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const taken = seconds(start);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return taken;
}

// A shell command line (for `< input` redirections), timed as a whole
export function timeShell(line: string): number {
  return timeCommand('/bin/sh', ['-c', line]);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// The value below which `p` percent of the values lie (nearest rank)
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// A warm-up, then the median of `rounds` runs; every round kept for the JSON
export function measure(rounds: number, run: () => number, warmup: () => unknown = run): { median: number; rounds: number[] } {
  warmup();
  const times = Array.from({ length: rounds }, () => run());
  return { median: median(times), rounds: times };
}

// Whether a command is on the PATH
export function which(command: string): boolean {
  return spawnSync('/bin/sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

// The version line of a tool, for the report
export function version(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

// Temporary directories, removed when the run ends (the item files are up to 30 MB each)
const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'polytask-bench-'));
  made.push(dir);
  return dir;
}

// `count` trivial items as JSON lines: {"i":0,"name":"item-0"}
export function writeItems(file: string, count: number): string {
  const chunk = 10_000;
  writeFileSync(file, '');
  for (let from = 0; from < count; from += chunk) {
    const lines: string[] = [];
    for (let i = from; i < Math.min(count, from + chunk); i++) lines.push(JSON.stringify({ i, name: `item-${i}` }));
    writeFileSync(file, `${lines.join('\n')}\n`, { flag: 'a' });
  }
  return file;
}

// A job spec whose handler returns its item (`body`: other code for the same handler)
export function writeSpec(file: string, kind: 'node' | 'python3', body?: string): string {
  if (kind === 'node') {
    const code = body ?? 'export const main = (event) => event';
    writeFileSync(file, `exec_type: node\nexec_info:\n  code: ${JSON.stringify(code)}\n`);
  } else {
    const code = body ?? 'def main(event, context):\n    return event\n';
    writeFileSync(file, `exec_type: python3\nexec_info:\n  code: ${JSON.stringify(code)}\n`);
  }
  return file;
}

export const fmt = {
  int: (value: number) => Math.round(value).toLocaleString('en'),
  s: (value: number) => value.toFixed(3),
  ms: (value: number) => (value * 1000).toFixed(0),
  mb: (value: number) => value.toFixed(1),
  x: (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}x`),
};

export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

// A scenario that could not run here: its name and why, printed instead of its row
export interface Skipped {
  name: string;
  reason: string;
}
