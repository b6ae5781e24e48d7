// Runner: named long-running applications, each reached through a channel (its stdio, or a
// socket it listens on). Several instances of one application run under different aliases.
// A process that exits by itself frees its alias; terminate() ends one and reaps it.
import path from 'node:path';
import { OptionError, ProcessExistsError, SetupError } from '../errors.js';
import { LineChannel, PipeChannel, type Channel } from './channels.js';
import { closeOptionKeys, knownOptions, optionKeys } from '../options.js';
import { splitCommand } from './command.js';
import { SocketChannel, type SocketAddress } from './socket-channel.js';
import { Spawned, startError } from './spawn.js';

export const appOptionKeys = optionKeys<AppOptions>()(['type', 'socket', 'cwd', 'env', 'detached', 'buffering', 'shell', 'socketTimeout', 'graceMs']);
/** Options of an application registered with Runner.add() */
export interface AppOptions {
  /**
   * 'stdio': the channel is the app's stdin/stdout; 'socket': it connects to `socket`
   * @default 'stdio'
   */
  type?: 'stdio' | 'socket';
  /**
   * A UNIX socket path (relative to cwd) or a TCP `{ host, port }`, for type: 'socket'
   * @default none (required with type: 'socket')
   */
  socket?: SocketAddress;
  /**
   * The app's working directory
   * @default this process's working directory
   */
  cwd?: string;
  /**
   * Added to this process's environment
   * @default none
   */
  env?: NodeJS.ProcessEnv;
  /**
   * A process group (and session) of its own: a Ctrl-C to this process's group does not reach it
   * @default false
   */
  detached?: boolean;
  /**
   * 'line': read() returns whole lines; 'none': whatever is available
   * @default 'none'
   */
  buffering?: 'line' | 'none';
  /**
   * Run a string command through /bin/sh instead of splitting it into words
   * @default false
   */
  shell?: boolean;
  /**
   * ms to wait for the socket to accept a connection
   * @default 5000
   */
  socketTimeout?: number;
  /**
   * ms between SIGTERM and SIGKILL in terminate()
   * @default 2000
   */
  graceMs?: number;
}

export const appConfigKeys = optionKeys<AppConfig>()([...appOptionKeys, 'command']);
/** An application as Runner.updateConfig() takes it: its command and its options */
export interface AppConfig extends AppOptions {
  /** An argument array, or a string split into words (quotes respected; no shell unless `shell`) */
  command: string | readonly string[];
}

export const startOptionKeys = optionKeys<StartOptions>()([...appConfigKeys, 'alias', 'withArgs']);
/** Options of Runner.start() and ensureRunning(): the application's, overridden, and these */
export interface StartOptions extends Partial<AppConfig> {
  /**
   * The name the running process gets
   * @default the application's name
   */
  alias?: string;
  /**
   * Arguments added to the command
   * @default []
   */
  withArgs?: readonly string[];
}

export const runnerOptionKeys = optionKeys<RunnerOptions>()(['extraPaths']);
/** Options of new Runner() */
export interface RunnerOptions {
  /**
   * Directories put first on the apps' PATH (and used to find their commands)
   * @default []
   */
  extraPaths?: readonly string[];
}

interface Running {
  // a detached app leads its own process group: terminate() ends the whole group
  spawned: Spawned;
  channel: Channel | undefined;
  graceMs: number;
}

export class Runner {
  readonly extraPaths: readonly string[];
  readonly #apps = new Map<string, AppConfig>();
  readonly #running = new Map<string, Running>();
  // the start of each running alias, for ensureRunning() while it is still starting
  readonly #ready = new WeakMap<Running, Promise<Channel>>();

  constructor(options: RunnerOptions = {}) {
    knownOptions('Runner', options, runnerOptionKeys);
    this.extraPaths = [...(options.extraPaths ?? [])];
  }

  // Registers an application, or replaces its configuration
  add(name: string, command: string | readonly string[], options: AppOptions = {}): void {
    knownOptions('Runner.add()', options, appOptionKeys);
    this.#apps.set(name, { ...options, command });
  }

  // add() for several applications: { name: { command, ...options } }
  updateConfig(config: Record<string, AppConfig>): void {
    for (const app of Object.values(config)) knownOptions('Runner.updateConfig()', app, appConfigKeys);
    for (const [name, app] of Object.entries(config)) this.#apps.set(name, { ...app });
  }

  // Starts an application; rejects with ProcessExistsError when its alias already runs
  async start(name: string, options: StartOptions = {}): Promise<Channel> {
    knownOptions('Runner.start()', options, startOptionKeys);
    const alias = options.alias ?? name;
    const existing = this.#running.get(alias);
    if (existing !== undefined) return Promise.reject(new ProcessExistsError(alias, existing.spawned.pid));
    return this.#start(name, alias, options);
  }

  // Starts an application unless its alias already runs; resolves with its channel
  async ensureRunning(name: string, options: StartOptions = {}): Promise<Channel> {
    knownOptions('Runner.ensureRunning()', options, startOptionKeys);
    const alias = options.alias ?? name;
    const existing = this.#running.get(alias);
    if (existing === undefined) return this.#start(name, alias, options);
    return existing.channel !== undefined ? Promise.resolve(existing.channel) : this.#whenReady(alias, existing);
  }

  // The channel of a running alias (undefined when it does not run or is still starting)
  getChannel(alias: string): Channel | undefined {
    return this.#running.get(alias)?.channel;
  }

  pid(alias: string): number | undefined {
    return this.#running.get(alias)?.spawned.pid;
  }

  // The aliases that run now
  aliases(): string[] {
    return [...this.#running.keys()];
  }

  // Closes the channel, sends SIGTERM, SIGKILL after the grace period, and waits until reaped
  async terminate(alias: string, options: { graceMs?: number } = {}): Promise<void> {
    knownOptions('Runner.terminate()', options, closeOptionKeys);
    const entry = this.#running.get(alias);
    if (entry === undefined) return;
    this.#running.delete(alias);
    entry.channel?.close();
    await entry.spawned.terminate({ graceMs: options.graceMs ?? entry.graceMs });
  }

  async terminateAll(options: { graceMs?: number } = {}): Promise<void> {
    knownOptions('Runner.terminateAll()', options, closeOptionKeys);
    await Promise.all(this.aliases().map((alias) => this.terminate(alias, options)));
  }

  // `await using runner = new Runner(...)`: terminateAll() at the end of the block
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminateAll();
  }

  #start(name: string, alias: string, options: StartOptions): Promise<Channel> {
    const app = this.#apps.get(name);
    if (app === undefined) return Promise.reject(new OptionError(`Expected the \`name\` option to be a registered application (${[...this.#apps.keys()].join(', ') || 'none registered'}), got \`${name}\``));
    const { alias: _alias, withArgs = [], ...overrides } = options;
    const config: AppConfig = { ...app, ...overrides };
    const type = config.type ?? 'stdio';
    if (type !== 'stdio' && type !== 'socket') return Promise.reject(new OptionError(`Expected the \`type\` option to be 'stdio' or 'socket', got \`${String(type)}\``));
    if (type === 'socket' && config.socket === undefined) return Promise.reject(new OptionError(`Expected the \`socket\` option to be set for the socket application \`${name}\`, got \`undefined\``));
    let words: string[];
    try {
      words = typeof config.command === 'string' && !config.shell ? splitCommand(config.command) : typeof config.command === 'string' ? [config.command] : [...config.command];
    } catch (error) {
      return Promise.reject(error);
    }
    const [file, ...args] = [...words, ...withArgs];
    if (file === undefined) return Promise.reject(new OptionError(`Expected the \`command\` option of \`${name}\` to name a program, got \`${String(config.command)}\``));
    const PATH = [...this.extraPaths, process.env.PATH ?? ''].filter((p) => p !== '').join(path.delimiter);
    const spawned = new Spawned(file, args, {
      cwd: config.cwd,
      env: { ...process.env, ...config.env, PATH },
      stdio: type === 'stdio' ? ['pipe', 'pipe', 'inherit'] : ['ignore', 'inherit', 'inherit'],
      detached: config.detached ?? false,
      shell: config.shell ?? false,
    });
    const { child } = spawned;
    let exitedWith: string | undefined;
    const entry: Running = { spawned, channel: undefined, graceMs: config.graceMs ?? 2000 };
    this.#running.set(alias, entry);
    // a process that exits by itself (or cannot start) frees its alias
    void spawned.exited.then(({ code, signal }) => {
      exitedWith = signal === null ? `status ${code}` : signal;
      if (this.#running.get(alias) === entry) this.#running.delete(alias);
    });
    const ready = (async () => {
      try {
        await spawned.started;
      } catch (error) {
        throw startError(`\`${file}\` for \`${alias}\``, error as Error);
      }
      let channel: Channel;
      if (type === 'stdio') channel = new PipeChannel({ readable: child.stdout, writable: child.stdin });
      else {
        const address = typeof config.socket === 'string' ? path.resolve(config.cwd ?? '.', config.socket) : config.socket!;
        const stop = () => (exitedWith === undefined ? undefined : new SetupError(`\`${alias}\` exited (${exitedWith}) before its socket accepted a connection`));
        try {
          channel = await SocketChannel.connectWhenReady(address, config.socketTimeout ?? 5000, stop);
        } catch (error) {
          // (the alias may already have been terminated, and even started again)
          if (this.#running.get(alias) === entry) await this.terminate(alias);
          throw error;
        }
      }
      if (config.buffering === 'line') channel = new LineChannel(channel);
      entry.channel = channel;
      return channel;
    })();
    ready.catch(() => {
      if (this.#running.get(alias) === entry) this.#running.delete(alias);
    });
    this.#ready.set(entry, ready);
    return ready;
  }

  #whenReady(alias: string, entry: Running): Promise<Channel> {
    return this.#ready.get(entry) ?? Promise.reject(new SetupError(`\`${alias}\` is not ready`));
  }
}
