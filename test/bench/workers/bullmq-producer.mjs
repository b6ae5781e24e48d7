// The raw BullMQ peer's producer: reads JSON lines, packs `perJob` items into each job, adds
// them with addBulk, and writes one JSON result per line as the jobs complete (results taken
// from the 'completed' events, which is good enough here: the reader keeps up).
// Usage: node bullmq-producer.mjs SOCKET QUEUE FILE PER_JOB
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

const [socket, queueName, file, perJobText] = process.argv.slice(2);
const perJob = Number(perJobText);
const connection = new Redis({ path: socket, maxRetriesPerRequest: null });
const queue = new Queue(queueName, { connection });
const events = new QueueEvents(queueName, { connection: { path: socket } });
await events.waitUntilReady();
let sent = 0;
let done = 0;
let readAll = false;
let finish;
const finished = new Promise((resolve) => (finish = resolve));
let out = '';
events.on('completed', ({ returnvalue }) => {
  const results = typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue;
  for (const result of results) out += `${JSON.stringify(result)}\n`;
  if (out.length > 1 << 16) {
    process.stdout.write(out);
    out = '';
  }
  done++;
  if (readAll && done === sent) finish();
});
let block = [];
let jobs = [];
const flush = async () => {
  if (block.length > 0) jobs.push({ name: 'items', data: { items: block }, opts: { removeOnComplete: true } });
  block = [];
  if (jobs.length === 0) return;
  const batch = jobs;
  jobs = [];
  sent += batch.length;
  await queue.addBulk(batch);
};
for await (const line of createInterface({ input: createReadStream(file) })) {
  block.push(JSON.parse(line));
  if (block.length === perJob) {
    jobs.push({ name: 'items', data: { items: block }, opts: { removeOnComplete: true } });
    block = [];
    if (jobs.length >= 100) await flush();
  }
}
await flush();
readAll = true;
if (done === sent) finish();
await finished;
process.stdout.write(out);
await events.close();
await queue.close();
connection.disconnect();
