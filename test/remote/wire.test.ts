// What a job carries (wire.ts), as the Sender packs it into BullMQ on a real redis-server:
// item numbers that follow one another go as `first` alone, others (items sent again after a
// loss or a retry) as `ids`; itemId() reads either back as the worker does. And results lines
// read back as the worker wrote them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Queue } from 'bullmq';
import { connect, redisTarget } from '../../src/remote/connection.js';
import { RetryPolicy } from '../../src/pool/retry.js';
import { InFlight, type Item } from '../../src/remote/inflight.js';
import { Sender } from '../../src/remote/sender.js';
import { RemoteStats } from '../../src/remote/stats.js';
import { forEachResult, itemId, resultLine, type JobData } from '../../src/remote/wire.js';
import { timed } from '../helpers.js';
import { RedisServer, redisMissing } from './redis.js';

const it = suite('wire');
const missing = redisMissing();
const redis = new RedisServer();

it.before(async () => {
  if (missing === undefined) await redis.start();
});
it.after(async () => {
  await redis.close();
});

const item = (id: number): Item => ({ id, json: `{"n":${id}}`, done: () => {}, onStart: undefined, timeout: null, attempts: 1, retried: 0, lost: 0, job: undefined, sentAt: 0 });

it('numbers in a row go as the first; others one by one; the worker reads both back', timed(30_000, async () => {
  if (missing !== undefined) {
    console.log(`  skipped: ${missing}`);
    return;
  }
  const connection = await connect(redisTarget(redis.url), 'wire-test', false);
  const queue = new Queue('wire-test', { connection });
  try {
    const sender = new Sender(queue, 'run1', new InFlight(new RemoteStats(), new RetryPolicy({}), () => {}, () => false), () => {});
    // one block: the Sender cuts at a changed timeout
    for (const id of [1, 2, 3, 4]) sender.add(item(id));
    sender.add({ ...item(7), timeout: 1000 });
    sender.add({ ...item(9), timeout: 1000 });
    sender.add({ ...item(10), timeout: 1000 });
    let jobs: { data: JobData }[] = [];
    for (let tries = 0; jobs.length < 2 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      jobs = (await queue.getJobs(['waiting'])) as { data: JobData }[];
    }
    assert.is(jobs.length, 2);
    const numbers = (data: JobData) => data.items.split('\n').map((_, i) => itemId(data, i));
    const inRow = jobs.find((job) => job.data.items.startsWith('{"n":1}'))?.data;
    const sentAgain = jobs.find((job) => job.data.items.startsWith('{"n":7}'))?.data;
    assert.equal(inRow!.first, 1);
    assert.is(inRow!.ids, undefined);
    assert.equal(numbers(inRow!), [1, 2, 3, 4]);
    assert.is(sentAgain!.first, undefined);
    assert.equal(sentAgain!.ids, [7, 9, 10]);
    assert.equal(numbers(sentAgain!), [7, 9, 10]);
    assert.equal(sentAgain!.items.split('\n'), ['{"n":7}', '{"n":9}', '{"n":10}']);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}));

it('result lines read back as written: the exit, a returned integer, the runs on the worker after the first', () => {
  const lines = [
    resultLine(12, { exit: 0, rest: '"value":{"a":"b c","\u00e9":"\u{1f600}"},"stdout":"","stderr":""}', attempts: 1 }),
    resultLine(7, { exit: 3, rest: '"value":3,"stdout":"","stderr":""}', attempts: 1, fromReturn: true }),
    resultLine(40, { exit: 1, rest: '"error":{"name":"WorkerExitedError"}}', attempts: 3 }),
    resultLine(41, { exit: -2, rest: '}', attempts: 1, fromReturn: true }),
  ];
  assert.equal(lines.slice(1), ['7 3r "value":3,"stdout":"","stderr":""}', '40+2 1 "error":{"name":"WorkerExitedError"}}', '41 -2r }']);
  const read: unknown[] = [];
  forEachResult(Buffer.from(lines.join('\n')), ({ id, exit, fromReturn, reruns, rest }) => read.push({ id, exit, fromReturn, reruns, rest: rest.bytes.toString('utf8', rest.start, rest.end) }));
  assert.equal(read, [
    { id: 12, exit: 0, fromReturn: false, reruns: 0, rest: '"value":{"a":"b c","\u00e9":"\u{1f600}"},"stdout":"","stderr":""}' },
    { id: 7, exit: 3, fromReturn: true, reruns: 0, rest: '"value":3,"stdout":"","stderr":""}' },
    { id: 40, exit: 1, fromReturn: false, reruns: 2, rest: '"error":{"name":"WorkerExitedError"}}' },
    { id: 41, exit: -2, fromReturn: true, reruns: 0, rest: '}' },
  ]);
});

it.run();
