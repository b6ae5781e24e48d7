// The remote executor through the API, against a real redis-server and a real worker: JobRunner
// and task() with `redis`, their option errors, retries, a producer whose event loop is blocked
// for 5 s (no result lost), Redis restarted mid-run (the run goes on), and a producer never
// closed (the program still ends).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OptionError } from '../../src/errors.js';
import { task } from '../../src/futures/task.js';
import { JobRunner } from '../../src/job/runner.js';
import { RemoteExecutor } from '../../src/remote/executor.js';
import { loadSpec } from '../../src/spec/load.js';
import { spawnSync } from 'node:child_process';
import { bin, repoRoot, scratch, timed, waitUntil } from '../helpers.js';
import { RedisServer, redisMissing, serveSuite, sleeperSpec } from './redis.js';

const it = suite('RemoteExecutor');
const missing = redisMissing();
const redis = new RedisServer();
const dir = scratch('remote-executor');
const specFile = dir.write('spec.yml', sleeperSpec);
serveSuite(it, redis, bin, specFile, '-p', '2');

const items = (n: number, ms = 0) => Array.from({ length: n }, (_, i) => ({ n: i + 1, ms }));

it('JobRunner with `redis`: one result per item, in order with `ordered`', timed(60_000, async () => {
  await using runner = new JobRunner(await loadSpec(specFile), items(300), { redis: redis.url, ordered: true });
  const seen: number[] = [];
  for await (const result of runner.run()) {
    assert.is(result.exit, 0);
    assert.equal(result.value, { n: result.data.n });
    seen.push(result.index);
  }
  assert.equal(seen, Array.from({ length: 300 }, (_, i) => i));
}));

it('task(spec, { redis }): futures of items run by the workers', timed(60_000, async () => {
  await using run = task(await loadSpec(specFile), { redis: redis.url });
  const results = await Promise.all(items(50).map((item) => run(item)));
  assert.equal(results.map((r) => r.value), items(50).map((item) => ({ n: item.n })));
}));

it('a producer never closed lets the program end once nothing is in flight, as an idle pool does', timed(60_000, async () => {
  const script = `
    import { loadSpec, task } from 'polytask';
    const run = task(await loadSpec(${JSON.stringify(specFile)}), { redis: ${JSON.stringify(redis.url)} });
    const results = await Promise.all([1, 2, 3].map((n) => run({ n, ms: 50 })));
    console.log(results.map((r) => r.value.n).join(' '));
  `;
  const ran = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
  assert.is(ran.status, 0, `${ran.signal ?? ''} ${ran.stderr}`);
  assert.is(ran.stdout.trim(), '1 2 3');
}));

it('option errors name the option', timed(30_000, async () => {
  const spec = await loadSpec(specFile);
  assert.throws(() => new JobRunner(spec, [], { redis: redis.url, processes: 2 }), (e: Error) => e instanceof OptionError && e.message === 'processes: set on the workers (polytask worker), not on a run with `redis`');
  assert.throws(() => task(spec, { redis: redis.url, processes: 2 }), (e: Error) => e instanceof OptionError && e.message === 'processes: set on the workers (polytask worker), not on a run with `redis`');
  assert.throws(() => new RemoteExecutor(spec, { redis: redis.url, redisTimeout: -1 }), (e: Error) => e instanceof OptionError && /redisTimeout/.test(e.message));
  assert.throws(() => new RemoteExecutor(spec, { redis: 'redis://h/x' }), (e: Error) => e instanceof OptionError && e.message === 'redis: the database must be a number, got "redis://h/x"');
}));

it('retries: an item that timed out runs again, up to `retries` times', timed(60_000, async () => {
  await using executor = new RemoteExecutor(await loadSpec(specFile), { redis: redis.url, timeout: 300, retries: 2, retryDelay: 10 });
  const result = await executor.result({ n: 1, ms: 5000 });
  assert.is(result.exit, 124);
  assert.is(result.attempts, 3);
  assert.is(executor.stats().retried, 2);
}));

it('a producer blocked for 5 s loses no result', timed(60_000, async () => {
  await using executor = new RemoteExecutor(await loadSpec(specFile), { redis: redis.url });
  await executor.start();
  const runs = items(400, 2).map((item) => executor.run(item));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    // the event loop is blocked: the workers go on writing results to the stream
  }
  const results = await Promise.all(runs);
  assert.equal(results.map((r) => (r.value as { n: number }).n), items(400).map((item) => item.n));
  assert.is(executor.stats().crashes, 0, 'nothing was sent again');
}));

it('Redis restarted mid-run (nothing saved): the lost jobs are sent again, the run completes', timed(90_000, async () => {
  await using executor = new RemoteExecutor(await loadSpec(specFile), { redis: redis.url });
  await executor.start();
  let answered = 0;
  const runs = items(120, 50).map((item) => executor.run(item).finally(() => answered++));
  // some items answered, and jobs still waiting in Redis: those are lost with it
  await waitUntil(() => answered > 0, 20_000, 'the first results');
  assert.ok(Number(redis.cli('llen', `polytask:${executor.queue}:wait`)) > 0, 'jobs waiting when Redis stops');
  await redis.stop();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await redis.start();
  const results = await Promise.all(runs);
  assert.equal(results.map((r) => (r.value as { n: number }).n), items(120).map((item) => item.n));
  const stats = executor.stats();
  assert.ok(stats.crashes > 0, 'some items were sent again after the restart');
  console.log(`  Redis restart: ${stats.crashes} items sent again, ${stats.done} answered`);
}));

if (missing !== undefined) console.log(`skip RemoteExecutor tests: ${missing}`);
else it.run();
