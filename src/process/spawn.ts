// Starting and ending a child process, for every spawner of polytask: the pool's children,
// Subprocess, Runner and Instance. A child may lead a process group of its own (`detached`), so
// that signals reach what it started too; ending it is SIGTERM, then SIGKILL after a grace period.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { pEvent } from 'p-event';
import { SetupError } from '../errors.js';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TerminateOptions {
  // ms before the SIGTERM, while the child may end by itself (default 0: at once)
  termAfterMs?: number;
  // ms between the SIGTERM and the SIGKILL
  graceMs: number;
}

// A child that cannot start ends as a shell reports a command it cannot run
const notStarted: ProcessExit = { code: 127, signal: null };

// Sends a signal to a process group; false when the group is gone (no process left in it)
function signalGroup(group: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

// The SetupError of a command that cannot start (ENOENT, EACCES...): `cannot start <what>: <reason>`
export function startError(what: string, error: Error, reason = error.message): SetupError {
  return new SetupError(`cannot start ${what}: ${reason}`, { cause: error });
}

export class Spawned {
  readonly child: ChildProcess;
  // the child's process group (its pid) when it leads one: signals then reach the whole group
  readonly group: number | undefined;
  // resolves once the child runs; rejects with the system's error when it cannot start
  readonly started: Promise<void>;
  // resolves once the child has exited, or with status 127 when it could not start (a failed
  // spawn emits no 'exit')
  readonly exited: Promise<ProcessExit>;

  constructor(file: string, args: readonly string[], options: SpawnOptions) {
    this.child = spawn(file, args, options);
    this.group = options.detached === true ? this.child.pid : undefined;
    this.started = pEvent<string, void>(this.child, 'spawn');
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
      this.started.catch(() => resolve(notStarted));
    });
    // an error once it runs (a signal that cannot be sent) is not a failure to start
    this.child.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  // Whether the child has exited (or was killed)
  get ended(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  // Signals the child, or its whole group when it leads one (what is left of the group, even
  // once the child itself has exited); false when nothing was signalled
  kill(signal: NodeJS.Signals): boolean {
    if (this.group !== undefined && signalGroup(this.group, signal)) return true;
    if (this.ended) return false;
    return this.child.kill(signal);
  }

  // Ends the child: SIGTERM after `termAfterMs`, SIGKILL `graceMs` later; resolves with its exit
  async terminate(options: TerminateOptions): Promise<ProcessExit> {
    const { termAfterMs = 0, graceMs } = options;
    const timers = [setTimeout(() => this.kill('SIGKILL'), termAfterMs + graceMs)];
    if (termAfterMs === 0) this.kill('SIGTERM');
    else timers.push(setTimeout(() => this.kill('SIGTERM'), termAfterMs));
    try {
      return await this.exited;
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
  }

  // Once the child has exited, ends what is left of its group (what it started): SIGTERM, then
  // SIGKILL `graceMs` later to what survived that (the timer does not keep this process alive)
  endGroup(graceMs = 500): void {
    const group = this.group;
    if (group === undefined || !signalGroup(group, 'SIGTERM')) return;
    setTimeout(() => signalGroup(group, 'SIGKILL'), graceMs).unref();
  }
}
