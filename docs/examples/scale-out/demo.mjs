// The scale-out walk-through on one machine: a redis-server on a Unix socket in a temp folder,
// two `polytask worker` processes (one for the spec, one for JavaScript module tasks), then
// `polytask run --redis` and task(..., { redis }) as producers. Everything is stopped at the end.
//   node docs/examples/scale-out/demo.mjs        (needs redis-server: apt-get install redis-server)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { task } from 'polytask';

const here = path.dirname(fileURLToPath(import.meta.url));
const polytask = path.join(here, '..', '..', '..', 'bin', 'polytask.js');
const dir = mkdtempSync(path.join(tmpdir(), 'polytask-scale-out-'));
const socket = path.join(dir, 'redis.sock');
const redis = `redis+unix://${socket}`;

const server = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
const children = [server];
try {
  while (spawnSync('redis-cli', ['-s', socket, 'ping'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG') await new Promise((r) => setTimeout(r, 50));

  // a worker for the spec, and one for JavaScript module tasks under tasks/
  const started = (args) => new Promise((resolve, reject) => {
    const worker = spawn(process.execPath, [polytask, 'worker', '--redis', redis, '-p', '2', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(worker);
    worker.stderr.on('data', (chunk) => (String(chunk).includes('ready:') ? resolve() : undefined));
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  await Promise.all([started(['-s', path.join(here, 'spec.yml')]), started(['--module-root', path.join(here, 'tasks')])]);

  // the producer: the same command as a local run, with --redis
  const run = spawnSync(process.execPath, [polytask, 'run', '-s', path.join(here, 'spec.yml'), '-d', path.join(here, 'items.jsonl'), '--redis', redis, '--keep-order'], { encoding: 'utf8' });
  for (const line of run.stdout.trim().split('\n')) {
    const { line: n, exit, value } = JSON.parse(line);
    console.log(`line ${n}: exit ${exit}, ${value.word} has ${value.length} letters`);
  }

  // a module task, from the API
  const shout = task({ module: path.join(here, 'tasks', 'words.mjs'), name: 'shout' }, { redis });
  try {
    console.log(await Promise.all(['hello', 'workers'].map((word) => shout(word))));
  } finally {
    await shout.close();
  }
} finally {
  // the workers first (they hand back what they run and leave Redis), then the server
  const stop = (some) => Promise.all(some.map((child) => {
    if (child.exitCode !== null || child.signalCode !== null) return undefined;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    return exited;
  }));
  await stop(children.slice(1));
  await stop([server]);
  rmSync(dir, { recursive: true, force: true });
}
