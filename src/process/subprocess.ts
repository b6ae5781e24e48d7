// Subprocess: a child process with line callbacks. Every line reaches the callbacks once,
// including the last one without a newline and the lines written just before the exit; the
// exit is reported only after them. Argument arrays, never a shell unless `shell: true`.
import type { ChildProcess } from 'node:child_process';
import { AbortError, EndpointClosedError, OptionError, TimeoutError } from '../errors.js';
import { checkOptions, isPositiveInteger, isSignal, knownOptions, optionKeys } from '../options.js';
import { followLines } from './lines.js';
import { Spawned, startError } from './spawn.js';
import { ValueQueue } from './value-queue.js';

export interface SubprocessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  // the whole output, with collectOutput: true
  stdout?: string;
  stderr?: string;
}

export const subprocessOptionKeys = optionKeys<SubprocessOptions>()(['onStdoutLine', 'onStderrLine', 'onExit', 'collectOutput', 'env', 'cwd', 'shell', 'stdin', 'detached', 'closeGraceMs', 'signal', 'timeout']);
/** Options of new Subprocess() */
export interface SubprocessOptions {
  /**
   * Called with each line of the child's stdout, without its newline
   * @default none: the lines are only read
   */
  onStdoutLine?: (line: string) => void;
  /**
   * Called with each line of the child's stderr, without its newline
   * @default none: the lines are only read
   */
  onStderrLine?: (line: string) => void;
  /**
   * Called once, after the last line
   * @default none
   */
  onExit?: (exit: SubprocessExit) => void;
  /**
   * Keep the whole stdout and stderr for the exit report
   * @default false
   */
  collectOutput?: boolean;
  /**
   * The child's environment
   * @default this process's environment
   */
  env?: NodeJS.ProcessEnv;
  /**
   * The child's working directory
   * @default this process's working directory
   */
  cwd?: string;
  /**
   * Run `command` (one string) through /bin/sh
   * @default false
   */
  shell?: boolean;
  /**
   * 'pipe' for write(); 'ignore' gives the child /dev/null; 'inherit' this terminal
   * @default 'pipe'
   */
  stdin?: 'pipe' | 'ignore' | 'inherit';
  /**
   * A new process group (and session): signals to this process's group do not reach it
   * @default false
   */
  detached?: boolean;
  /**
   * ms to wait for stdout/stderr to close after the exit (a grandchild may hold them)
   * @default 1000
   */
  closeGraceMs?: number;
  /**
   * Stops the child when it aborts (SIGTERM, then SIGKILL 2 s later, as `await using`):
   * wait() rejects with an AbortError whose `cause` is the signal's reason, and `exit`
   * @default none
   */
  signal?: AbortSignal;
  /**
   * ms the child may run: then it is stopped as by `signal`, and wait() rejects with a
   * TimeoutError, with `exit`
   * @default no limit
   */
  timeout?: number;
}

export class Subprocess {
  readonly child: ChildProcess;
  readonly #spawned: Spawned;
  #exit: Promise<SubprocessExit>;
  readonly #queues = new Set<ValueQueue<string>>();
  #stdinOpen: boolean;

  constructor(command: readonly string[] | string, options: SubprocessOptions = {}) {
    knownOptions('Subprocess', options, subprocessOptionKeys);
    checkOptions(options, { signal: isSignal, timeout: isPositiveInteger });
    const [file, args, shell] = parseCommand(command, options.shell ?? false);
    const stdin = options.stdin ?? 'pipe';
    const spawned = (this.#spawned = new Spawned(file, args, {
      stdio: [stdin, 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
      shell,
      detached: options.detached ?? false,
    }));
    this.child = spawned.child;
    this.#stdinOpen = stdin === 'pipe';
    this.child.stdin?.on('error', () => {
      this.#stdinOpen = false;
    });
    const collect = options.collectOutput ?? false;
    let stdout = '';
    let stderr = '';
    const outDone = followLines(this.child.stdout!, (line) => {
      options.onStdoutLine?.(line);
      for (const queue of this.#queues) queue.push(line);
    }, collect ? (chunk) => (stdout += chunk) : undefined);
    const errDone = followLines(this.child.stderr!, (line) => options.onStderrLine?.(line), collect ? (chunk) => (stderr += chunk) : undefined);
    this.#exit = new Promise<SubprocessExit>((resolve, reject) => {
      spawned.started.catch((error: Error) => {
        this.#stdinOpen = false;
        reject(startError(`\`${file}\``, error));
      });
      this.child.once('exit', (code, signal) => {
        this.#stdinOpen = false;
        const grace = setTimeout(() => {
          this.child.stdout?.destroy();
          this.child.stderr?.destroy();
        }, options.closeGraceMs ?? 1000);
        void Promise.all([outDone, errDone]).then(() => {
          clearTimeout(grace);
          for (const queue of this.#queues) queue.end();
          const exit: SubprocessExit = collect ? { code, signal, stdout, stderr } : { code, signal };
          resolve(exit);
          options.onExit?.(exit);
        });
      });
    });
    // a start failure is reported by wait(), not as an unhandled rejection
    this.#exit.catch(() => {});
    this.#stopOn(options);
  }

  // `signal` and `timeout`: the child is stopped, and wait() rejects with why, and the exit
  #stopOn({ signal, timeout }: SubprocessOptions): void {
    if (signal === undefined && timeout === undefined) return;
    let why: Error | undefined;
    const stop = (error: Error) => {
      why ??= error;
      void this.#spawned.terminate({ graceMs: 2000 }).catch(() => {});
    };
    const onAbort = () => stop(new AbortError('the subprocess was aborted', { cause: signal!.reason }));
    const timer = timeout === undefined ? undefined : setTimeout(() => stop(new TimeoutError(timeout, 'the subprocess')), timeout);
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const settled = this.#exit;
    this.#exit = settled.then((exit) => {
      if (why !== undefined) throw Object.assign(why, { exit });
      return exit;
    }).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
    this.#exit.catch(() => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  // Writes to the child's stdin; throws EndpointClosedError once stdin is closed or the child is gone
  write(data: string | Uint8Array): void {
    if (!this.#stdinOpen || this.child.stdin === null || this.child.stdin.destroyed) {
      throw new EndpointClosedError(`cannot write to the stdin of pid ${this.pid ?? '(not started)'}: it is closed`);
    }
    this.child.stdin.write(data);
  }

  closeStdin(): void {
    this.#stdinOpen = false;
    this.child.stdin?.end();
  }

  // Sends a signal (default SIGTERM) to the child only, even when it leads a group (`detached`);
  // false when the child has already exited
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.#spawned.ended) return false;
    return this.child.kill(signal);
  }

  // Resolves after the exit and the last line; rejects with a SetupError when the command cannot start
  wait(): Promise<SubprocessExit> {
    return this.#exit;
  }

  // `await using p = new Subprocess(...)`: at the end of the block a child still running gets
  // SIGTERM, then SIGKILL 2 s later; resolves once it has exited
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#spawned.ended) await this.#spawned.terminate({ graceMs: 2000 });
    await this.#exit.catch(() => {});
  }

  // The stdout lines from now on, as an async iterator (call it before awaiting anything to get them all)
  lines(): AsyncIterableIterator<string> {
    const queue = new ValueQueue<string>();
    if (this.child.stdout?.closed ?? true) queue.end();
    else this.#queues.add(queue);
    return queue;
  }
}

// [file, args, shell]: an argument array as is; a string only with shell: true
export function parseCommand(command: readonly string[] | string, shell: boolean): [string, string[], boolean] {
  if (typeof command === 'string') {
    if (!shell) throw new OptionError(`Expected the \`command\` option to be an argument array (or a string with \`shell: true\`), got \`${command}\` (string)`);
    return [command, [], true];
  }
  const [file, ...args] = command;
  if (file === undefined || file === '') throw new OptionError(`Expected the \`command\` option to be a non-empty argument array, got \`${JSON.stringify(command)}\``);
  return shell ? [[file, ...args].join(' '), [], true] : [file, args, false];
}
