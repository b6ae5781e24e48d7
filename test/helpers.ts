// Shared by the tests: time limits, fixtures, interpreters, process checks
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixturesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures');
export const repoRoot = path.join(fixturesDir, '..', '..');
export const bin = path.join(repoRoot, 'bin', 'polytask.js');

export function fixture(name: string): string {
  return path.join(fixturesDir, name);
}

// A fresh temporary directory, and a way to write a file in it (returns the file's path)
export function scratch(prefix: string): { dir: string; write(name: string, text: string): string } {
  const dir = mkdtempSync(path.join(tmpdir(), `polytask-${prefix}-`));
  return {
    dir,
    write(name, text) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    },
  };
}

// Wraps a test body so that it fails (instead of hanging the run) after `ms`
export function timed(ms: number, body: () => Promise<void>): () => Promise<void> {
  return () => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`test timed out after ${ms} ms`)), ms);
    });
    return Promise.race([Promise.resolve().then(body), limit]).finally(() => clearTimeout(timer));
  };
}

// Why an interpreter cannot be used, or undefined when it runs
export function missingInterpreter(command: string): string | undefined {
  const probe = spawnSync(command, ['-c', 'import sys; print(sys.version_info[0])'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${command} not found (${probe.error.message})`;
  if (probe.status !== 0) return `${command} does not run: ${probe.stderr.trim().split('\n')[0]}`;
  return undefined;
}

// Runs `body` with an environment variable set, then puts the old value back
export async function withEnv(name: string, value: string, body: () => Promise<void>): Promise<void> {
  const saved = process.env[name];
  process.env[name] = value;
  try {
    await body();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

// The pids of a process's direct children
export function childrenOf(pid: number): number[] {
  return spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie still answers kill(0): look at its state
  const stat = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return stat !== '' && !stat.startsWith('Z');
}

export async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
