// Instance: exchange JSON values with a child Python or Node program. Values travel as
// length-prefixed frames (see frames.ts) on fd 3 (to the child) and fd 4 (from it); the child's
// stdout and stderr go to this process's (or to line callbacks). The child uses a helper that
// ships with the package: `from polytask_child import parent` or
// `import { parent } from 'polytask/child'`.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { EndpointClosedError } from '../errors.js';
import { handlersDir } from '../spec/interpreter.js';
import { encodeFrame, FrameReader } from './frames.js';
import { followLines } from './lines.js';
import { closeOptionKeys, knownOptions, optionKeys } from '../options.js';
import { Spawned, startError } from './spawn.js';
import { ValueQueue } from './value-queue.js';

export const instanceOptionKeys = optionKeys<InstanceOptions>()(['interpreter', 'args', 'cwd', 'env', 'onStdoutLine', 'onStderrLine']);
/** Options of Instance.python() and Instance.node() */
export interface InstanceOptions {
  /**
   * The interpreter
   * @default python3 (or $POLYTASK_PYTHON3) for python(); the running Node for node()
   */
  interpreter?: string;
  /**
   * Arguments for the program (sys.argv[1:] / process.argv.slice(2) with `{ path }`)
   * @default []
   */
  args?: readonly string[];
  /**
   * The child's working directory
   * @default this process's working directory
   */
  cwd?: string;
  /**
   * Added to this process's environment
   * @default none
   */
  env?: NodeJS.ProcessEnv;
  /**
   * The child's stdout, line by line
   * @default none: it goes to this process's stdout
   */
  onStdoutLine?: (line: string) => void;
  /**
   * The child's stderr, line by line
   * @default none: it goes to this process's stderr
   */
  onStderrLine?: (line: string) => void;
}

export interface InstanceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type Source = string | { path: string };

const childRegister = fileURLToPath(new URL('./child-register.js', import.meta.url));

// Removes the indentation common to every non-blank line (code in an indented template literal)
function dedent(code: string): string {
  const lines = code.split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
  const common = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(common)).join('\n');
}

export class Instance {
  readonly child: ChildProcess;
  readonly #spawned: Spawned;
  readonly #toChild: Writable;
  readonly #reader = new FrameReader();
  readonly #values = new ValueQueue<unknown>();
  readonly #exit: Promise<InstanceExit>;
  #sendClosed = false;

  private constructor(command: string, args: string[], options: InstanceOptions, env: NodeJS.ProcessEnv) {
    const callbacks = options.onStdoutLine !== undefined || options.onStderrLine !== undefined;
    this.#spawned = new Spawned(command, args, {
      stdio: ['ignore', callbacks ? 'pipe' : 'inherit', callbacks ? 'pipe' : 'inherit', 'pipe', 'pipe'],
      cwd: options.cwd,
      env: { ...process.env, ...options.env, ...env },
    });
    this.child = this.#spawned.child;
    if (this.child.stdout) void followLines(this.child.stdout, (line) => options.onStdoutLine?.(line));
    if (this.child.stderr) void followLines(this.child.stderr, (line) => options.onStderrLine?.(line));
    this.#toChild = this.child.stdio[3] as Writable;
    this.#toChild.on('error', () => (this.#sendClosed = true));
    const fromChild = this.child.stdio[4] as Readable;
    fromChild.on('error', () => {});
    fromChild.on('data', (chunk: Buffer) => this.#received(chunk));
    fromChild.once('close', () => this.#end());
    this.#exit = this.#spawned.exited.then((exit) => {
      this.#sendClosed = true;
      return exit;
    });
  }

  // A Python child running `source` (code, or { path } to a file), with polytask_child importable
  static async python(source: Source, options: InstanceOptions = {}): Promise<Instance> {
    knownOptions('Instance.python()', options, instanceOptionKeys);
    const interpreter = options.interpreter ?? process.env.POLYTASK_PYTHON3 ?? 'python3';
    const program = typeof source === 'string' ? ['-c', dedent(source)] : [path.resolve(source.path)];
    const pythonPath = [handlersDir, process.env.PYTHONPATH, options.env?.PYTHONPATH].filter((p) => p !== undefined && p !== '').join(path.delimiter);
    return Instance.#start(interpreter, [...program, ...(options.args ?? [])], options, { PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1' });
  }

  // A Node child running `source` (ES module code, or { path } to a file), where 'polytask/child' resolves
  static async node(source: Source, options: InstanceOptions = {}): Promise<Instance> {
    knownOptions('Instance.node()', options, instanceOptionKeys);
    const program = typeof source === 'string' ? ['--input-type=module', '-e', source] : [path.resolve(source.path)];
    return Instance.#start(options.interpreter ?? process.execPath, ['--import', childRegister, ...program, ...(options.args ?? [])], options, {});
  }

  static async #start(command: string, args: string[], options: InstanceOptions, env: NodeJS.ProcessEnv): Promise<Instance> {
    const instance = new Instance(command, args, options, env);
    try {
      await instance.#spawned.started;
    } catch (error) {
      throw startError(`\`${command}\``, error as Error);
    }
    return instance;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  // Sends one JSON value; throws EndpointClosedError once the channel or the child is gone
  send(value: unknown): void {
    if (this.#sendClosed || this.#toChild.destroyed || this.#toChild.writableEnded) {
      throw new EndpointClosedError(`cannot send to pid ${this.pid}: the channel to the child is closed`);
    }
    this.#toChild.write(encodeFrame(value));
  }

  // The next value the child sent; rejects with EndpointClosedError when it will send no more
  recv(): Promise<unknown> {
    return this.#values.take();
  }

  // Hands on the values of a chunk; a frame that is not JSON ends the channel after the values
  // that came before it
  #received(chunk: Buffer): void {
    for (const value of this.#reader.push(chunk)) this.#values.push(value);
    const error = this.#reader.error;
    if (error !== undefined && !this.#values.ended) {
      this.#end(new EndpointClosedError(`the child sent a frame that is not JSON: ${error.message}`, { cause: error }));
      this.kill('SIGKILL');
    }
  }

  #end(error?: EndpointClosedError): void {
    if (this.#values.ended) return;
    this.#values.end(error ?? new EndpointClosedError(this.#reader.pending > 0
      ? `the child closed the channel mid-frame (${this.#reader.describePending()})`
      : 'the child closed the channel: it sends no more values'));
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    return this.#spawned.kill(signal);
  }

  // Resolves when the child has exited (and been reaped)
  wait(): Promise<InstanceExit> {
    return this.#exit;
  }

  // Ends the channel to the child (it sees the end of its input), then SIGTERM after `graceMs`
  // (default 2000) and SIGKILL 500 ms later; resolves with the exit
  async close(options: { graceMs?: number } = {}): Promise<InstanceExit> {
    knownOptions('Instance.close()', options, closeOptionKeys);
    this.#sendClosed = true;
    this.#toChild.end();
    await this.#spawned.terminate({ termAfterMs: options.graceMs ?? 2000, graceMs: 500 });
    return this.#exit;
  }

  // `await using child = await Instance.node(...)`: close() at the end of the block
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
