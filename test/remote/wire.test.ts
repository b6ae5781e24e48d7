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
import { forEachResult, forEachWhole, itemId, outputFields, resultLine, wholeHead, type JobData } from '../../src/remote/wire.js';
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

it('runs of whole output lines read back as written, and bytes that are not such runs are refused', () => {
  const first = '{"line":8,"data":{"a":1},"exit":0,"attempts":1,"value":1,"stdout":"","stderr":""}\n';
  const second = '{"line":9,"data":"\u00e9","exit":3,"attempts":1,"value":3,"stdout":"","stderr":""}\n{"line":10,"data":[],"exit":0,"attempts":1}\n';
  const bytes = Buffer.concat([wholeHead(20, 1, 0, 0, Buffer.byteLength(first)), first, wholeHead(21, 2, 1, 1, Buffer.byteLength(second)), second].map((piece) => Buffer.from(piece)));
  const read: unknown[] = [];
  assert.ok(forEachWhole(bytes, ({ first: id, count, failed, returned, bytes: all, start, end }) => read.push([id, count, failed, returned, all.toString('utf8', start, end)])));
  assert.equal(read, [[20, 1, 0, 0, first], [21, 2, 1, 1, second]]);
  // a length past the end, a head cut short, no lines
  for (const bad of [`${wholeHead(1, 1, 0, 0, 500)}{"line":1}\n`, '3 1 0', wholeHead(1, 0, 0, 0, 0)]) assert.not.ok(forEachWhole(Buffer.from(bad), () => {}), bad);
});

it('an output line\'s fields are found from its item text\'s length, whatever the text holds', () => {
  // the item holds what looks like the keys that follow it
  const data = '{"x":1,"exit":5,"attempts":9,"\u00e9":"}"}';
  const line = Buffer.from(`{"line":12,"data":${data},"exit":-3,"attempts":2,"value":-3,"stdout":""}`);
  const fields = outputFields(line, 0, line.length, (n) => (n === 12 ? Buffer.byteLength(data) : -1));
  assert.is(fields.line, 12);
  assert.is(line.toString('latin1', fields.exitAt, fields.exitEnd), '-3');
  assert.is(fields.attempts, 2);
  assert.is(line.toString('utf8', fields.restAt), '"value":-3,"stdout":""}');
  const bare = Buffer.from('{"line":1,"data":0,"exit":0,"attempts":1}');
  assert.is(bare.toString('utf8', outputFields(bare, 0, bare.length, () => 1).restAt), '}');
});

it.run();
