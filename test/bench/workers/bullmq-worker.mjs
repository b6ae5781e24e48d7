// The raw BullMQ peer's worker: takes jobs of items (an array in job.data.items) and answers
// each item with itself, as the benchmark's trivial handler does, in this process.
// Usage: node bullmq-worker.mjs SOCKET QUEUE
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [socket, queue] = process.argv.slice(2);
const connection = new Redis({ path: socket, maxRetriesPerRequest: null });
const worker = new Worker(queue, async (job) => job.data.items.map((item) => ({ exit: 0, value: item })), { connection, concurrency: 4, removeOnComplete: { count: 0 } });
await worker.waitUntilReady();
process.stderr.write('ready\n');
process.on('SIGTERM', async () => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
});
