// What every fault scenario shares: the runtimes it runs against, `polytask run` driven end to
// end through bin/polytask.js, and the check that no process it started survives.
//
// Each run gets a unique marker in its environment, which every child inherits: a process
// still alive with that marker after the run is an orphan.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bin, fixture, missingInterpreter } from '../helpers.js';

export interface FaultRuntime {
  name: 'node' | 'python3';
  execType: string;
  file: string;
  // the handler's name in this runtime (snake_case in Python)
  handler: (camel: string) => string;
}

const all: (FaultRuntime & { missing: string | undefined })[] = [
  { name: 'node', execType: 'node', file: fixture('faults/handler.mjs'), handler: (n) => n, missing: undefined },
  {
    name: 'python3', execType: 'python3', file: fixture('faults/handler.py'),
    handler: (n) => n.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
    missing: missingInterpreter(process.env.POLYTASK_PYTHON3 ?? 'python3'),
  },
];

// The runtimes every scenario runs against; prints why one is skipped
export function faultRuntimes(): FaultRuntime[] {
  for (const r of all) if (r.missing !== undefined) console.log(`skip ${r.name} fault scenarios: ${r.missing}`);
  return all.filter((r) => r.missing === undefined);
}

export const dir = mkdtempSync(path.join(tmpdir(), 'polytask-faults-'));

export function writeFile(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

// A spec file for `handler` of the runtime's fixture, with an optional setup hook
export function specFor(runtime: FaultRuntime, handler: string, setupHook = false): string {
  const spec = {
    exec_type: runtime.execType,
    exec_info: { code: { type: 'path', data: runtime.file }, handler: runtime.handler(handler), ...(setupHook ? { setup_hook: 'setup' } : {}) },
  };
  return writeFile(`${runtime.name}-${handler}-${randomUUID()}.json`, JSON.stringify(spec));
}

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  results: Record<string, unknown>[];
  marker: string;
}

function parseResults(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

// Runs `polytask run` to the end; `env` adds variables for the CLI and its children
export function runCli(args: string[], input: string | Buffer, env: Record<string, string> = {}, timeoutMs = 60_000): CliRun {
  const marker = randomUUID();
  const r = spawnSync(process.execPath, [bin, 'run', ...args], {
    input, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...env, POLYTASK_FAULT_MARK: marker },
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, results: parseResults(r.stdout), marker };
}

// Starts `polytask run` and returns it running, for scenarios that act on it mid-run
export function startCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; marker: string } {
  const marker = randomUUID();
  const child = spawn(process.execPath, [bin, 'run', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env, POLYTASK_FAULT_MARK: marker },
  });
  return { child, marker };
}

// The live processes (zombies excluded) that carry the run's marker in their environment
export function survivors(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`POLYTASK_FAULT_MARK=${marker}`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') found.push(Number(entry));
    } catch {
      // gone while we looked, or not ours to read
    }
  }
  return found;
}

// Waits up to `ms` for every process of the run to be gone; returns those still there
export async function waitForNoSurvivors(marker: string, ms = 2000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = survivors(marker);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = survivors(marker);
  }
  for (const pid of left) spawnSync('kill', ['-9', String(pid)]);
  return left;
}

// The input lines that are not blank: each gives exactly one result
export function countItems(input: string): number {
  return input.replace(/^\ufeff/, '').split('\n').filter((l) => l.trim() !== '').length;
}

export function lines(items: unknown[]): string {
  return items.map((i) => JSON.stringify(i)).join('\n') + '\n';
}
