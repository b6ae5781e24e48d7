// polytask's own keys beside a queue's (remote/keys.ts), on a real redis-server: workers are
// counted from the queue's set by their heartbeat keys (one whose key expired leaves the set),
// and a run's heartbeat makes its results stream before its run key, and again after a loss.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, redisTarget } from '../../src/remote/connection.js';
import { countWorkers, Keys, runHeartbeat } from '../../src/remote/keys.js';
import { timed } from '../helpers.js';
import { RedisServer, redisMissing } from './redis.js';

const it = suite('remote keys');
const missing = redisMissing();
const redis = new RedisServer();

it.before(async () => {
  if (missing === undefined) await redis.start();
});
it.after(() => redis.close());

it('countWorkers: the workers of the set whose heartbeat key is there, their children summed; the others leave the set', timed(30_000, async () => {
  if (missing !== undefined) return console.log(`  skipped: ${missing}`);
  const client = await connect(redisTarget(redis.url), 'keys-test', false);
  try {
    const keys = new Keys('count-test');
    assert.equal(await countWorkers(client, keys), { workers: 0, slots: 1 });
    await client.set(keys.worker('a'), '2', 'PX', 10_000);
    await client.set(keys.worker('b'), '3', 'PX', 10_000);
    await client.set(keys.worker('gone'), '4', 'PX', 1);
    await client.sadd(keys.workers, 'a', 'b', 'gone', 'never');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await countWorkers(client, keys), { workers: 2, slots: 5 });
    assert.equal((await client.smembers(keys.workers)).sort(), ['a', 'b']);
  } finally {
    client.disconnect();
  }
}));

it('runHeartbeat: the results stream (an `h` entry) and the run key, both with a TTL; made again once Redis lost them', timed(30_000, async () => {
  if (missing !== undefined) return console.log(`  skipped: ${missing}`);
  const client = await connect(redisTarget(redis.url), 'keys-test', false);
  try {
    const keys = new Keys('heartbeat-test');
    await runHeartbeat(client, keys, 'r1');
    const [[, fields]] = (await client.xrange(keys.results('r1'), '-', '+')) as [[string, string[]]];
    assert.equal(fields, ['h', '']);
    assert.ok(Number(await client.pttl(keys.results('r1'))) > 0);
    assert.ok(Number(await client.pttl(keys.run('r1'))) > 0);
    await client.flushall();
    await runHeartbeat(client, keys, 'r1');
    assert.is(await client.exists(keys.results('r1'), keys.run('r1')), 2);
  } finally {
    client.disconnect();
  }
}));

it.run();
