// Debian's redis-server for the scale-out tests: on a Unix socket in a temp dir, nothing
// saved to disk, stopped by pid. `redisMissing()` says why it cannot run (the tests then skip
// with that reason printed).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'uvu';

export function redisMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined) return 'redis-server is not installed (apt-get install redis-server; .ci/run does)';
  return undefined;
}

export class RedisServer {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'polytask-redis-'));
  readonly socket = path.join(this.dir, 'redis.sock');
  readonly url = `redis+unix://${this.socket}`;
  #child: ChildProcess | undefined;

  /** Starts the server (again, after stop()) and waits until it answers */
  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', '0', '--unixsocket', this.socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'inherit'] });
    this.#child = child;
    const deadline = Date.now() + 10_000;
    // asked with INFO, which BullMQ sends anyway: Redis 7 keeps a latency histogram (24.7 KB)
    // for each kind of command it has run, and the bench's used_memory is to count polytask's
    while (!existsSync(this.socket) || !spawnSync('redis-cli', ['-s', this.socket, 'info', 'server'], { encoding: 'utf8' }).stdout.includes('redis_version:')) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('redis-server did not answer within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** A command through redis-cli, e.g. `cli('info', 'memory')` */
  cli(...args: string[]): string {
    return spawnSync('redis-cli', ['-s', this.socket, ...args], { encoding: 'utf8' }).stdout;
  }

  /** Stops the server by its pid (SIGKILL with `kill`: nothing is saved either way) */
  async stop(kill = false): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(kill ? 'SIGKILL' : 'SIGTERM');
    await exited;
    rmSync(this.socket, { force: true });
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// A spec whose node handler sleeps `item.ms` and answers `{ n }` (an object: a returned integer
// would be read as the exit status)
export const sleeperSpec = `exec_type: node
exec_info:
  code: |
    export async function main(item) {
      if (item.ms) await new Promise((resolve) => setTimeout(resolve, item.ms));
      return { n: item.n };
    }
`;

export interface WorkerProcess {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

// `polytask worker` as a real process; resolves once it says it is ready
// (spec '': a JavaScript worker, given --module-root or --allow-inline in `args`)
export async function startWorker(bin: string, url: string, spec: string, ...args: string[]): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [bin, 'worker', '--redis', url, ...(spec === '' ? [] : ['-s', spec]), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!text.includes('ready:')) {
    if (child.exitCode !== null) throw new Error(`polytask worker exited with ${child.exitCode}: ${text}`);
    if (Date.now() > deadline) throw new Error(`polytask worker not ready after 20 s: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { child, stderr: () => text, exited };
}

// A redis-server and one `polytask worker` for a whole suite: started before its first test,
// stopped after its last (neither when redis-server is missing)
export function serveSuite(it: Test, redis: RedisServer, bin: string, spec: string, ...args: string[]): void {
  let worker: WorkerProcess | undefined;
  it.before(async () => {
    if (redisMissing() !== undefined) return;
    await redis.start();
    worker = await startWorker(bin, redis.url, spec, ...args);
  });
  it.after(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await redis.close();
  });
}
