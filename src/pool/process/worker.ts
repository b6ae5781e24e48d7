// One child process of the pool: starts it, performs the init handshake, sends calls on fd 3,
// reads results from fd 4, and reports how it ended. Scheduling decisions live in the pool.
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { SetupError, RemoteError } from '../../errors.js';
import type { ChildMessage, LinesMessage, ReadyMessage } from '../../protocol/messages.js';
import { returnedStatus, type RawResult } from './call.js';
import { initLine, protocolVersion, readResultHead } from '../../protocol/messages.js';
import { Spawned, startError } from '../../process/spawn.js';
import { ChildReader } from './reader.js';
import type { ResolvedSpec } from '../../spec/load.js';

export type OutputSink = (chunk: Buffer, stream: 'stdout' | 'stderr', workerId: number) => void;

export interface WorkerEvents {
  // results[i] answers the call ids[i]
  onResults(worker: Worker, results: RawResult[], ids: number[]): void;
  // a version 3 child answered lines of a `lines` block: the head, and the output lines after it
  onLines(worker: Worker, head: LinesMessage, out: Buffer[]): void;
  onExit(worker: Worker, exit: ChildExit): void;
  onOutput: OutputSink;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  // the exit status as a shell reports it: the code, or 128 + the signal number
  status: number;
}

export interface WorkerStartOptions {
  // ms the child may take to load the code and run the setup hook
  setupTimeout: number;
  // the child shares this terminal (fd 0-2) and does not capture output
  attachTerminal?: boolean;
  // the pool's per-item timeout in ms, if any (told to the child in init)
  timeout?: number | undefined;
  // an fd open on `polytask run`'s results, given to the child as its fd 5 for the output lines
  // of `lines` blocks (protocol version 4)
  linesOutput?: number | undefined;
}

// the child's fd for init's `output_fd`
const outputFd = 5;

const stderrKept = 16 * 1024;
// filled by readResultHead for each result line
const head = { id: 0, exit: 0, restAt: 0 };

export class Worker {
  readonly id: number;
  readonly #spec: ResolvedSpec;
  readonly #events: WorkerEvents;
  #spawned: Spawned | undefined;
  #toChild: Writable | undefined;
  #exited: Promise<ChildExit> | undefined;
  #stderrTail = '';
  #ready = false;
  #exitInfo: ChildExit | undefined;
  pid: number | undefined;
  ready: ReadyMessage | undefined;
  // the item that announced it is ending the child, if one did
  exitingId: number | undefined;

  constructor(id: number, spec: ResolvedSpec, events: WorkerEvents) {
    this.id = id;
    this.#spec = spec;
    this.#events = events;
  }

  get alive(): boolean {
    return this.#spawned !== undefined && this.#exitInfo === undefined;
  }

  // Spawns the child and resolves once it has answered `ready`; rejects with a SetupError
  start(options: WorkerStartOptions): Promise<void> {
    const { setupTimeout, attachTerminal = false, timeout } = options;
    const linesOutput = attachTerminal ? undefined : options.linesOutput;
    const { launch } = this.#spec;
    // Each child leads a process group of its own, so that what the handler starts (a
    // subprocess) is ended with it; not when it shares the terminal (a debugging session),
    // where it must stay in the terminal's foreground group. The terminal's Ctrl-C then no
    // longer reaches the children: the parent, which stops first, ends them itself.
    const spawned = new Spawned(launch.command, launch.args, {
      stdio: [...(attachTerminal ? ['inherit', 'inherit', 'inherit'] as const : ['ignore', 'pipe', 'pipe'] as const), 'pipe', 'pipe', ...(linesOutput === undefined ? [] : [linesOutput])],
      env: { ...process.env, POLYTASK_PROTOCOL: '1', POLYTASK_WORKER_ID: String(this.id) },
      detached: !attachTerminal,
    });
    const { child } = spawned;
    this.#spawned = spawned;
    this.pid = child.pid;
    this.#toChild = child.stdio[3] as Writable;
    const fromChild = child.stdio[4] as Readable;
    // an EPIPE after the child died is reported through the exit path, not as an exception
    this.#toChild.on('error', () => {});
    fromChild.on('error', () => {});
    child.stdout?.on('data', (chunk: Buffer) => this.#events.onOutput(chunk, 'stdout', this.id));
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!this.#ready) this.#stderrTail = (this.#stderrTail + chunk.toString('utf8')).slice(-stderrKept);
      this.#events.onOutput(chunk, 'stderr', this.id);
    });

    const fromChildEnded = new Promise<void>((resolve) => fromChild.once('close', resolve));
    let spawnError: Error | undefined;
    spawned.started.catch((error: Error) => (spawnError = error));
    this.#exited = spawned.exited.then(async ({ code, signal }) => {
      if (spawnError === undefined) {
        // what the handler started ends with it
        spawned.endGroup();
        // results written just before exiting may still be in the pipe: read them first
        await Promise.race([fromChildEnded, new Promise((r) => setTimeout(r, 200).unref())]);
      }
      return this.#recordExit(code, signal);
    });

    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(new SetupError(`${this.#describe()} did not answer the init message within ${setupTimeout} ms`, { stderr: this.#stderrTail }));
        this.kill('SIGKILL');
      }, setupTimeout);
      const fail = (error: SetupError) => {
        clearTimeout(timer);
        reject(error);
      };
      let results: RawResult[] = [];
      let ids: number[] = [];
      const onLine = (line: string) => {
        if (line === '') return;
        // the bundled handlers start every result the same way: read it without a full parse
        if (readResultHead(line, head)) {
          ids.push(head.id);
          const rest = line.slice(head.restAt);
          results.push(head.exit === 0 ? { exit: 0, rest, attempts: 1 } : this.#statusRule(head.exit, rest));
          return;
        }
        let message: ChildMessage;
        try {
          message = JSON.parse(line) as ChildMessage;
        } catch {
          reader.stop(`a line that is not a protocol message: ${line}`);
          return;
        }
        if (message.type === 'result') {
          const { type: _type, id, exit, ...rest } = message;
          ids.push(id);
          results.push(this.#statusRule(exit, JSON.stringify(rest).slice(1)));
        }
        else if (message.type === 'exiting') this.exitingId = message.id;
        else if (message.type === 'ready') {
          const mismatch = this.#checkVersion(message);
          if (mismatch !== undefined) {
            fail(new SetupError(mismatch));
            this.kill('SIGKILL');
            return;
          }
          this.#onReady(message);
          clearTimeout(timer);
          resolve();
        } else if (message.type === 'init_error') {
          this.#forwardSetupOutput(message);
          const remote = new RemoteError(message.error);
          fail(new SetupError(`${this.#describe()} failed to load the code: ${message.error.name}: ${message.error.message}`, { cause: remote, stderr: message.error.stack ?? '' }));
        }
      };
      const reader = new ChildReader({
        line: onLine,
        lines: (linesHead, out) => {
          if ((linesHead.written ?? 0) > 0 && linesOutput === undefined) this.protocolError(`output lines written to an output_fd it was not given: ${JSON.stringify(linesHead)}`);
          else this.#events.onLines(this, linesHead, out);
        },
        broken: (what) => this.protocolError(what),
      });
      fromChild.on('data', (chunk: Buffer) => {
        reader.push(chunk);
        if (results.length > 0) {
          this.#events.onResults(this, results, ids);
          results = [];
          ids = [];
        }
      });
      void this.#exited!.then((exit) => {
        if (!this.#ready) {
          fail(spawnError === undefined ? this.#exitedDuringSetup(exit) : this.#spawnFailed(spawnError));
          return;
        }
        this.#events.onExit(this, exit);
      });
      this.#toChild!.write(initLine({
        worker_id: this.id,
        code: this.#spec.code,
        handler: this.#spec.handler,
        setup_hook: this.#spec.setupHook,
        protocol: protocolVersion,
        ...(this.#spec.handlerArgs === undefined ? {} : { args: this.#spec.handlerArgs }),
        ...(attachTerminal ? { capture: false } : {}),
        ...(timeout === undefined ? {} : { timeout_ms: timeout }),
        // for the output lines a version 3 child writes itself
        ...(this.#spec.exitFromReturn === false ? { exit_from_return: false } : {}),
        ...(linesOutput === undefined ? {} : { output_fd: outputFd }),
      }));
    });
  }

  // Sends call lines, calls blocks and lines blocks (already framed) in one write
  send(pieces: (string | Buffer)[]): void {
    const toChild = this.#toChild;
    if (toChild === undefined) return;
    if (pieces.length === 1) {
      toChild.write(pieces[0]!);
      return;
    }
    // one writev
    toChild.cork();
    for (const piece of pieces) toChild.write(piece);
    toChild.uncork();
  }

  // Whether this child keeps the parent's event loop alive (it does by default)
  setRef(ref: boolean): void {
    const child = this.#spawned?.child;
    if (child === undefined) return;
    if (ref) child.ref();
    else child.unref();
    for (const stream of child.stdio) {
      const handle = stream as { ref?: () => void; unref?: () => void } | null;
      if (ref) handle?.ref?.();
      else handle?.unref?.();
    }
  }

  // Signals the child, and every process of its group (what its handler started)
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.#spawned!.kill(signal);
  }

  // Ends the child: EOF on fd 3 first (or SIGTERM when `force`), SIGTERM after `graceMs`, SIGKILL 500 ms later
  async close(graceMs: number, force = false): Promise<ChildExit | undefined> {
    if (this.#spawned === undefined || this.#exited === undefined) return undefined;
    this.#toChild?.end();
    if (this.alive) void this.#spawned.terminate({ termAfterMs: force ? 0 : graceMs, graceMs: 500 });
    return this.#exited;
  }

  // The exit_from_return rule, applied here whatever the handler: a returned integer is the
  // item's exit status (marked, for the CLI's message), or, with the rule off, only its value
  #statusRule(exit: number, rest: string): RawResult {
    if (!returnedStatus(exit, rest)) return { exit, rest, attempts: 1 };
    return this.#spec.exitFromReturn === false ? { exit: 0, rest, attempts: 1 } : { exit, rest, attempts: 1, fromReturn: true };
  }

  // A line that is not a message, or a message that makes no sense: the child is broken, so it
  // is ended (its items are then answered like those of any child that died)
  protocolError(what: string): void {
    const shown = what.length > 200 ? `${what.slice(0, 200)}...` : what;
    this.#events.onOutput(Buffer.from(`polytask: child ${this.id} broke the protocol, ending it: ${shown}\n`), 'stderr', this.id);
    this.kill('SIGKILL');
  }

  #recordExit(code: number | null, signal: NodeJS.Signals | null): ChildExit {
    const status = code ?? 128 + (signal === null ? 0 : constants.signals[signal] ?? 0);
    this.#exitInfo = { code, signal, status };
    return this.#exitInfo;
  }

  #onReady(message: ReadyMessage): void {
    this.ready = message;
    this.#forwardSetupOutput(message);
    this.#ready = true;
    this.#stderrTail = '';
  }

  // python2 must really be Python 2 (and python3 Python 3): a wrong interpreter fails setup
  #checkVersion(message: ReadyMessage): string | undefined {
    const expect = this.#spec.launch.expectMajor;
    if (expect === undefined || Number(message.version.split('.')[0]) === expect) return undefined;
    return `${this.#describe()} is ${message.language} ${message.version}, not Python ${expect}; ${this.#spec.launch.hint}`;
  }

  #forwardSetupOutput(message: { stdout?: string; stderr?: string }): void {
    if (message.stdout) this.#events.onOutput(Buffer.from(message.stdout), 'stdout', this.id);
    if (message.stderr) this.#events.onOutput(Buffer.from(message.stderr), 'stderr', this.id);
  }

  #describe(): string {
    return `${this.#spec.launch.execType} child ${this.id} (${this.#spec.launch.description})`;
  }

  #spawnFailed(error: Error): SetupError {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'not executable' : error.message;
    return startError(this.#spec.launch.execType, error, `tried ${this.#spec.launch.description}: ${what}; ${this.#spec.launch.hint}`);
  }

  #exitedDuringSetup(exit: ChildExit): SetupError {
    const tail = this.#stderrTail.trim();
    const how = exit.signal === null ? `exited with status ${exit.code}` : `was killed by ${exit.signal}`;
    const message = `${this.#describe()} ${how} before it was ready${tail === '' ? '' : `; its stderr:\n${tail}`}\n${this.#spec.launch.hint}`;
    return new SetupError(message, { stderr: this.#stderrTail });
  }
}
