// JavaScript tasks on workers over Redis, against a real redis-server and `polytask worker`:
// module tasks (the queue is the module root's code), inline functions signed with the shared
// secret, and what a worker refuses (unsigned or wrongly signed inline code).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RemoteError, SetupError } from '../../src/errors.js';
import { task } from '../../src/futures/task.js';
import { SynchronousJob } from '../../src/job/synchronous.js';
import { RemoteExecutor } from '../../src/remote/executor.js';
import { inlineQueue, moduleQueue as moduleQueueOf } from '../../src/remote/js-calls.js';
import { bin, scratch, timed } from '../helpers.js';
import { RedisServer, redisMissing, startWorker, type WorkerProcess } from './redis.js';

const it = suite('JavaScript tasks on workers');
const missing = redisMissing();
const redis = new RedisServer();
const dir = scratch('remote-js');
const root = path.join(dir.dir, 'tasks');
mkdirSync(path.join(root, 'lib'), { recursive: true });
writeFileSync(path.join(root, 'lib', 'math.mjs'), 'export const twice = (x) => x * 2;\n');
writeFileSync(path.join(root, 'work.mjs'), "import { twice } from './lib/math.mjs';\nexport function double(x) { return twice(x); }\nexport function fail(x) { throw new RangeError(`no ${x}`); }\n");
const secret = 'a shared secret of the test run';
const workers: WorkerProcess[] = [];

it.before(async () => {
  if (missing !== undefined) return;
  await redis.start();
  process.env.POLYTASK_SECRET = secret;
  workers.push(await startWorker(bin, redis.url, '', '--module-root', root, '--allow-inline', '-p', '2'));
});
it.after(async () => {
  for (const worker of workers) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
  await redis.close();
});

it('a module task runs on a worker with --module-root; its errors come back with the remote stack', timed(30_000, async () => {
  await using double = task<[number], number>({ module: path.join(root, 'work.mjs'), name: 'double' }, { redis: redis.url });
  assert.equal(await Promise.all([1, 2, 3].map((x) => double(x))), [2, 4, 6]);
  await using fail = task<[number], never>({ module: path.join(root, 'work.mjs'), name: 'fail' }, { redis: redis.url });
  const error = await fail(7).then(() => undefined, (e: unknown) => e);
  assert.instance(error, RemoteError);
  assert.is((error as RemoteError).type, 'RangeError');
  assert.is((error as RemoteError).message, 'no 7');
  assert.match((error as RemoteError).traceback, 'work.mjs');
}));

it('a module root with other code has another queue: no worker serves it', timed(30_000, async () => {
  const other = path.join(dir.dir, 'other');
  mkdirSync(other, { recursive: true });
  writeFileSync(path.join(other, 'work.mjs'), 'export function double(x) { return x + x; }\n');
  await using double = task<[number], number>({ module: path.join(other, 'work.mjs'), name: 'double' }, { redis: redis.url });
  const error = await double(1).then(() => undefined, (e: unknown) => e);
  assert.instance(error, SetupError);
  assert.is((error as Error).message, `no polytask worker is serving this code of ${other} on ${redis.url} (queue ${moduleQueueOf(other)}); start one with: polytask worker --redis URL --module-root DIR (a copy of ${other})`);
}));

it('an inline function, signed with POLYTASK_SECRET, runs on a worker with --allow-inline', timed(30_000, async () => {
  await using add = task((x: number, y: number) => x + y, { redis: redis.url });
  assert.equal(await Promise.all([add(1, 2), add(3, 4)]), [3, 7]);
  const job = new SynchronousJob({ func: (n: number) => n * 10, items: [1, 2, 3], redis: redis.url });
  assert.equal(await job.runMultiProcessed(), [10, 20, 30]);
}));

it('unsigned or wrongly signed inline code is refused by the worker', timed(30_000, async () => {
  const source = '() => 42';
  const queue = inlineQueue(secret);
  const body = JSON.stringify({ s: source, a: [] });
  const forged = `{"h":"${'0'.repeat(64)}","c":${body}}`;
  for (const [line, why] of [[body, 'refused: inline code without a signature'], [forged, 'refused: inline code without a valid signature']] as const) {
    await using executor = new RemoteExecutor({ queue, serves: ['', ''], encode: () => line }, { redis: redis.url });
    const result = await executor.result(null);
    assert.is(result.exit, 1);
    assert.is(result.error?.message.startsWith(why), true, result.error?.message);
  }
}));

it('options: local pool options are the workers\', moduleRoot must hold the module', timed(30_000, async () => {
  assert.throws(() => task((x: number) => x, { redis: redis.url, concurrency: 2 }), /^concurrency: set on the workers \(polytask worker\), not on a task with `redis`$/);
  assert.throws(() => task({ module: path.join(root, 'work.mjs'), name: 'double' }, { redis: redis.url, moduleRoot: path.join(dir.dir, 'elsewhere') }), /moduleRoot: the module .* is not under /);
  assert.throws(() => task((x: number) => x, { moduleRoot: root }), /The `moduleRoot` option is for a module task with `redis`/);
  const saved = process.env.POLYTASK_SECRET;
  delete process.env.POLYTASK_SECRET;
  try {
    assert.throws(() => task((x: number) => x, { redis: redis.url }), /needs the shared secret in POLYTASK_SECRET/);
  } finally {
    process.env.POLYTASK_SECRET = saved;
  }
}));

if (missing !== undefined) console.log(`skip JavaScript tasks on workers: ${missing}`);
else it.run();
