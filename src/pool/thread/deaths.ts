// What a worker died of. tinypool fails the call of a worker that died with the error the
// worker emitted; the pool listens to each worker (tinypool's public `threads`) to learn how
// it exited, and turns that into a WorkerExitedError that says so.
import type { TinypoolWorker } from 'tinypool';
import { deserializeError } from 'serialize-error';
import { WorkerExitedError } from '../../errors.js';
import type { CrashReport } from './entry.js';

type Exit = { code: number | null; signal: NodeJS.Signals | null };
type Death = { exit?: Exit };

// set by entry.ts on the error that ends a thread after process.exit(code)
const exitCodeField = 'polytaskExitCode';

export class DeathWatch {
  readonly #runtime: 'thread' | 'process';
  // the workers listened to; those not yet exited; the errors tinypool fails calls with when one dies
  readonly #watched = new WeakSet<TinypoolWorker>();
  readonly #alive = new Map<TinypoolWorker, Promise<void>>();
  readonly #deaths = new Map<unknown, Death>();
  // why no worker could start, once none could (tinypool then gives up on its queued tasks)
  startFailure: unknown;

  constructor(runtime: 'thread' | 'process') {
    this.#runtime = runtime;
  }

  // Resolves once every worker seen has exited
  allExited(): Promise<void> {
    return Promise.all(this.#alive.values()).then(() => {});
  }

  // Listens to the workers tinypool started (it starts them only in run(), when needed). Both
  // listeners run right after tinypool's, before the failed call's rejection is handled.
  watch(workers: readonly TinypoolWorker[]): void {
    for (const worker of workers) {
      if (this.#watched.has(worker)) continue;
      this.#watched.add(worker);
      const death: Death = {};
      worker.on('error', (error: unknown) => {
        this.#deaths.set(error, death);
        setImmediate(() => this.#deaths.delete(error)).unref();
      });
      this.#alive.set(worker, new Promise((resolve) => worker.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        death.exit = { code, signal };
        this.#alive.delete(worker);
        resolve();
      })));
    }
  }

  // Whether tinypool refused a call because no worker could start: not a death, after one
  isStartFailure(error: unknown): boolean {
    return this.startFailure !== undefined && !this.#deaths.has(error);
  }

  // The error for a call that tinypool failed: its worker died, or no worker could start
  failure(error: unknown, report: CrashReport | undefined): unknown {
    if (this.isStartFailure(error)) {
      const { code = null, signal = null } = this.#deaths.get(this.startFailure)?.exit ?? {};
      const failure = new WorkerExitedError(`no worker could start to run the call: ${describe(this.startFailure)}`, code, signal);
      return Object.assign(failure, { cause: this.startFailure });
    }
    const death = this.#deaths.get(error);
    if (death === undefined) return error;
    if (this.#runtime === 'thread') return threadDeath(error);
    return processDeath(death.exit, report && deserializeError(report.polytaskCrash));
  }
}

// A worker thread died: what it died of (the error it threw, or process.exit) says how
function threadDeath(cause: unknown): WorkerExitedError {
  const { code, message, [exitCodeField]: exitCode } = (typeof cause === 'object' && cause !== null ? cause : {}) as Record<string, unknown>;
  if (typeof exitCode === 'number') return new WorkerExitedError(`the call ended its worker thread with process.exit(${exitCode})`, exitCode, null);
  const error = code === 'ERR_WORKER_OUT_OF_MEMORY'
    ? new WorkerExitedError(`the worker thread ran out of memory while running the call (${String(message)})`, null, null)
    : new WorkerExitedError(`the worker thread died of an uncaught exception while running the call: ${describe(cause)}`, 1, null);
  error.cause = cause;
  return error;
}

// A child process died: its exit code or signal, and the uncaught exception it reported
function processDeath(exit: Exit | undefined, cause: Error | undefined): WorkerExitedError {
  const { code = null, signal = null } = exit ?? {};
  if (cause !== undefined) {
    const error = new WorkerExitedError(`the worker process died of an uncaught exception while running the call: ${describe(cause)}`, code, signal);
    error.cause = cause;
    return error;
  }
  if (signal === null) return new WorkerExitedError(`the worker process exited with code ${code ?? 'unknown'} while running the call`, code, signal);
  return new WorkerExitedError(`the worker process was killed by ${signal} while running the call${signal === 'SIGABRT' ? ' (as V8 does when the heap is full)' : ''}`, code, signal);
}

// `Name: message` of an error, or the thrown value
function describe(error: unknown): string {
  const { name, message } = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  return message === undefined ? String(error) : `${String(name)}: ${String(message)}`;
}
