// polytask worker under faults, against a real redis-server: killed with -9 mid-run (its items
// come back within 15 s, each answered once), stopped with SIGTERM (its running item is handed
// back at once, the worker exits 0, even with Redis gone; --stats-file), Redis down for 8 s (it takes items
// again), a run that goes away (its items are dropped), and a run without its results stream
// (the worker does not make one).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Queue } from 'bullmq';
import { connect, redisTarget } from '../../src/remote/connection.js';
import { RemoteExecutor } from '../../src/remote/executor.js';
import { Keys, prefix, runHeartbeat } from '../../src/remote/keys.js';
import { RemoteWorker } from '../../src/remote/worker.js';
import { loadSpec } from '../../src/spec/load.js';
import { bin, childrenOf, isAlive, scratch, timed, waitUntil } from '../helpers.js';
import { RedisServer, redisMissing, sleeperSpec, startWorker, type WorkerProcess } from './redis.js';

const it = suite('polytask worker');
const missing = redisMissing();
const redis = new RedisServer();
const dir = scratch('remote-worker');
const specFile = dir.write('spec.yml', sleeperSpec);
const workers: WorkerProcess[] = [];

it.before(async () => {
  if (missing === undefined) await redis.start();
});
it.after.each(async () => {
  for (const worker of workers.splice(0)) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
});
it.after(() => redis.close());

const lines = (n: number, ms: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: i + 1, ms })).join('\n') + '\n';

it('a worker killed with -9 mid-run: its items come back within 15 s and every line gets one result', timed(60_000, async () => {
  const a = await startWorker(bin, redis.url, specFile, '-p', '1');
  const b = await startWorker(bin, redis.url, specFile, '-p', '1');
  workers.push(a, b);
  const children = childrenOf(a.child.pid!);
  const data = dir.write('kill.jsonl', lines(40, 100));
  const run = spawn(process.execPath, [bin, 'run', '-s', specFile, '-d', data, '--redis', redis.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  run.stdout.on('data', (chunk: Buffer) => (out += chunk));
  await waitUntil(() => out.split('\n').length > 4, 20_000, 'the first results');
  a.child.kill('SIGKILL');
  const killedAt = Date.now();
  const status = await new Promise<number | null>((resolve) => run.once('exit', resolve));
  const recovery = Date.now() - killedAt;
  assert.is(status, 0);
  const seen = out.trim().split('\n').map((line) => JSON.parse(line) as { line: number; value: { n: number } });
  assert.is(seen.length, 40, 'one result per line');
  assert.equal([...new Set(seen.map((r) => r.line))].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i + 1));
  for (const result of seen) assert.is(result.value.n, result.line);
  assert.ok(recovery < 15_000, `the run ended ${recovery} ms after the kill`);
  console.log(`  kill -9: the run ended ${recovery} ms after the kill`);
  // the dead worker's children end too (they watch their parent)
  await waitUntil(() => children.every((pid) => !isAlive(pid)), 10_000, 'the killed worker\'s children to end');
}));

it('SIGTERM: the running item is handed back at once, another worker runs it, the worker exits 0', timed(60_000, async () => {
  const a = await startWorker(bin, redis.url, specFile, '-p', '1', '--grace', '0.2');
  workers.push(a);
  await using executor = new RemoteExecutor(await loadSpec(specFile), { redis: redis.url });
  let started = false;
  const result = executor.run({ n: 7, ms: 4000 }, { onStart: () => void (started = true) });
  await waitUntil(() => started, 20_000, 'the item to start');
  const statsFile = path.join(dir.dir, 'b-stats.json');
  const b = await startWorker(bin, redis.url, specFile, '-p', '1', '--stats-file', statsFile);
  workers.push(b);
  a.child.kill('SIGTERM');
  const stoppedAt = Date.now();
  assert.is(await a.exited, 0, a.stderr());
  assert.ok(Date.now() - stoppedAt < 3000, `worker exited ${Date.now() - stoppedAt} ms after SIGTERM`);
  assert.equal((await result).value, { n: 7 });
  // handed back, not found by the stalled check (lock 4 s + check 2 s): run again at once on b
  const took = Date.now() - stoppedAt;
  assert.ok(took < 4000 + 2500, `the item ended ${took} ms after SIGTERM`);
  console.log(`  SIGTERM: the 4 s item ended ${took} ms after the signal`);
  // --stats-file: b's figures, written as it stops
  b.child.kill('SIGTERM');
  assert.is(await b.exited, 0, b.stderr());
  const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as { done: number; workers: unknown[] };
  assert.is(stats.done, 1);
  assert.is(stats.workers.length, 1);
}));

it('a worker with a timeout of its own runs each item as a call, also once its items are trivial: a slow one times out', timed(60_000, async () => {
  const spec = await loadSpec(specFile);
  await using worker = new RemoteWorker(spec, { redis: redis.url, processes: 2, timeout: 1000, onError: () => {} });
  await worker.start();
  const run = (file: string) => new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'run', '-s', specFile, '-d', file, '--redis', redis.url], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.once('error', reject);
    child.once('exit', () => resolve(out));
  });
  // trivial items first: without its timeout the worker would then take jobs as lines blocks
  await run(dir.write('trivial.jsonl', lines(200, 0)));
  const seen = (await run(dir.write('one-slow.jsonl', lines(20, 0) + JSON.stringify({ n: 21, ms: 5000 }) + '\n'))).trim().split('\n');
  const results = seen.map((line) => JSON.parse(line) as { line: number; exit: number; error?: { name: string } });
  assert.is(results.length, 21);
  assert.equal(results.filter((r) => r.exit !== 0).map((r) => [r.line, r.error?.name]), [[21, 'TimeoutError']]);
}));

it('the items of a run that is gone are dropped: the worker is free within a second', timed(60_000, async () => {
  const a = await startWorker(bin, redis.url, specFile, '-p', '1');
  workers.push(a);
  const spec = await loadSpec(specFile);
  const first = new RemoteExecutor(spec, { redis: redis.url });
  let started = false;
  const slow = first.run({ n: 1, ms: 20_000 }, { onStart: () => void (started = true) }).catch((error: unknown) => error);
  await waitUntil(() => started, 20_000, 'the slow item to start');
  await first.close();
  assert.is((await slow as Error).name, 'PoolClosedError');
  await using second = new RemoteExecutor(spec, { redis: redis.url });
  const from = Date.now();
  assert.equal((await second.run({ n: 2 })).value, { n: 2 });
  assert.ok(Date.now() - from < 3000, `the next run waited ${Date.now() - from} ms for the worker`);
  // nothing of the first run is left in Redis
  assert.is(redis.cli('exists', `polytask:${first.queue}:run:${first.runId}`, `polytask:${first.queue}:results:${first.runId}`).trim(), '0');
}));

it('SIGTERM while Redis is gone: the worker still exits 0, within its grace and a lock period', timed(60_000, async () => {
  const a = await startWorker(bin, redis.url, specFile, '-p', '1', '--grace', '0.2');
  workers.push(a);
  const children = childrenOf(a.child.pid!);
  await redis.stop(true);
  try {
    a.child.kill('SIGTERM');
    const stoppedAt = Date.now();
    assert.is(await a.exited, 0, a.stderr());
    const took = Date.now() - stoppedAt;
    assert.ok(took < 10_000, `worker exited ${took} ms after SIGTERM`);
    await waitUntil(() => children.every((pid) => !isAlive(pid)), 10_000, 'the worker\'s children to end');
  } finally {
    await redis.start();
  }
}));

it('Redis down for 8 s (past BullMQ\'s blocking timeout), then back: the worker takes items again', timed(90_000, async () => {
  const a = await startWorker(bin, redis.url, specFile, '-p', '1');
  workers.push(a);
  await redis.stop(true);
  await new Promise((resolve) => setTimeout(resolve, 8000));
  await redis.start();
  const from = Date.now();
  // its heartbeat is back first (a fresh server knows no worker until then)
  await waitUntil(() => redis.cli('keys', 'polytask:*:worker:*').trim() !== '', 10_000, 'the worker\'s heartbeat');
  await using executor = new RemoteExecutor(await loadSpec(specFile), { redis: redis.url });
  assert.equal((await executor.run({ n: 3 })).value, { n: 3 });
  console.log(`  after an 8 s outage: an item answered ${Date.now() - from} ms after Redis came back`);
}));

it('a worker appends results only to a run\'s stream that is there: it never makes one that would outlive its run', timed(60_000, async () => {
  const a = await startWorker(bin, redis.url, specFile, '-p', '1');
  workers.push(a);
  const queue = /queue (spec-[0-9a-f]+)/.exec(a.stderr())![1]!;
  const client = await connect(redisTarget(redis.url), 'worker-test', false);
  const bull = new Queue(queue, { connection: client, prefix });
  try {
    const keys = new Keys(queue);
    const send = async (run: string) => {
      const job = await bull.add('items', { run, first: 1, items: '{"n":1}\n{"n":2}', timeout: null }, { jobId: `${run}-1`, removeOnComplete: true, removeOnFail: true });
      // done and removed
      for (const deadline = Date.now() + 20_000; (await bull.getJobState(job.id!)) !== 'unknown';) {
        if (Date.now() > deadline) throw new Error(`job ${job.id!} not done within 20 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    // a run whose key is there but whose stream is not (deleted by its producer as it closed,
    // or expired): its items run, their results go nowhere
    await client.set(keys.run('nostream'), '1', 'PX', 30_000);
    await send('nostream');
    assert.is(await client.exists(keys.results('nostream')), 0);
    // a run with its stream: the results are there, after the heartbeat's entry
    await runHeartbeat(client, keys, 'live');
    await send('live');
    const entries = (await client.xrange(keys.results('live'), '-', '+')) as [string, string[]][];
    assert.ok(entries.some(([, fields]) => fields.includes('r') || fields.includes('w')), JSON.stringify(entries));
  } finally {
    await bull.close();
    client.disconnect();
  }
}));

if (missing !== undefined) console.log(`skip polytask worker tests: ${missing}`);
else it.run();
