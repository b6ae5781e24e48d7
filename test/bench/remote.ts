// Scale-out (issue 15): `polytask run --redis` with one local `polytask worker -p 2`, beside
// raw BullMQ with the same items per job and with one job per item (the producer and a worker
// process written by hand: test/bench/workers/bullmq-*.mjs), on a redis-server started here.
// Also: Redis's used_memory after a large run, the producer's peak RSS at N and 10 N items, and
// how long after a worker's kill -9 the run ends.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { RedisServer, redisMissing } from '../remote/redis.js';
import { bin, fmt, median, table, tempDir, timeCommand, workers, writeItems, writeSpec, type BenchContext } from './common.js';
import { sampleTree } from './memory.js';

export interface RemoteReport {
  skipped?: string;
  items: number;
  rounds: number;
  polytask: number;
  bullmqBlocks: number;
  bullmqSingle: number;
  singleItems: number;
  perJob: number;
  // Redis's used_memory: fresh, after the first run (BullMQ's scripts loaded), at the end of the
  // big run and 3 s later (idle clients' buffers given back)
  redisFreshMb: number;
  redisWarmMb: number;
  redisAtEndMb: number;
  redisUsedMb: number;
  // the same, once CONFIG RESETSTAT has freed Redis's per-command statistics (Redis 7's latency
  // histograms: a fixed cost for each command ever used, not data)
  redisNoStatsMb: number;
  bigItems: number;
  producerPeakMb: [number, number];
  recoverySeconds: number;
}

async function ready(child: ChildProcess, word: string): Promise<void> {
  let text = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk;
      if (text.includes(word)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready: ${text}`)));
  });
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

async function worker(url: string, spec: string, p: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, 'worker', '--redis', url, '-s', spec, '-p', String(p)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await ready(child, 'ready:');
  return child;
}

export async function runRemote(ctx: BenchContext, items: number): Promise<RemoteReport> {
  const perJob = 1000;
  const singleItems = Math.max(1000, Math.round(items / 10));
  const bigItems = items * 5;
  const empty = { items, rounds: ctx.rounds, polytask: 0, bullmqBlocks: 0, bullmqSingle: 0, singleItems, perJob, redisFreshMb: 0, redisWarmMb: 0, redisAtEndMb: 0, redisUsedMb: 0, redisNoStatsMb: 0, bigItems, producerPeakMb: [0, 0] as [number, number], recoverySeconds: 0 };
  const missing = redisMissing();
  if (missing !== undefined) return { ...empty, skipped: missing };
  const dir = tempDir();
  const input = writeItems(path.join(dir, 'items.jsonl'), items);
  const single = writeItems(path.join(dir, 'single.jsonl'), singleItems);
  const big = writeItems(path.join(dir, 'big.jsonl'), bigItems);
  const spec = writeSpec(path.join(dir, 'node.yml'), 'node');
  const redis = new RedisServer();
  await redis.start();
  try {
    const url = redis.url;
    const usedMb = () => Number(/used_memory:(\d+)/.exec(redis.cli('info', 'memory'))?.[1] ?? 0) / 2 ** 20;
    const redisFreshMb = usedMb();
    const run = (file: string) => () => timeCommand(process.execPath, [bin, 'run', '-s', spec, '-d', file, '--redis', url]);
    const bull = (file: string, n: number) => () => timeCommand(process.execPath, [path.join(workers, 'bullmq-producer.mjs'), redis.socket, 'peer', file, String(n)]);

    const local = await worker(url, spec, 2);
    const times = { polytask: [] as number[], blocks: [] as number[], single: [] as number[] };
    run(input)();
    const redisWarmMb = usedMb();
    for (let r = 0; r < ctx.rounds; r++) times.polytask.push(run(input)());
    ctx.log('remote: polytask measured');
    // the memory figures, with the same worker
    run(big)();
    const redisAtEndMb = usedMb();
    // Redis gives back an idle client's query buffer (grown to the worker's largest results
    // entry, about 160 KB) within 2 s of its last command
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const redisUsedMb = usedMb();
    redis.cli('config', 'resetstat');
    const redisNoStatsMb = usedMb();
    const small = await sampleTree(process.execPath, [bin, 'run', '-s', spec, '-d', input, '--redis', url]);
    const large = await sampleTree(process.execPath, [bin, 'run', '-s', spec, '-d', big, '--redis', url]);
    await stop(local);
    ctx.log('remote: memory measured');

    const peer = spawn(process.execPath, [path.join(workers, 'bullmq-worker.mjs'), redis.socket, 'peer'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await ready(peer, 'ready');
    bull(input, perJob)();
    for (let r = 0; r < ctx.rounds; r++) times.blocks.push(bull(input, perJob)());
    times.single.push(bull(single, 1)());
    await stop(peer);
    ctx.log('remote: BullMQ measured');

    const recoverySeconds = await recovery(url, dir);
    ctx.log('remote: recovery measured');
    const rate = (n: number, t: number[]) => n / median(t);
    return {
      ...empty,
      polytask: rate(items, times.polytask),
      bullmqBlocks: rate(items, times.blocks),
      bullmqSingle: rate(singleItems, times.single),
      redisFreshMb,
      redisWarmMb,
      redisAtEndMb,
      redisUsedMb,
      redisNoStatsMb,
      producerPeakMb: [small.parentPeakMb, large.parentPeakMb],
      recoverySeconds,
    };
  } finally {
    await redis.close();
  }
}

// Two workers of one child each; 200 items of 50 ms; one worker killed with -9 a second in:
// seconds from the kill to the end of the run
async function recovery(url: string, dir: string): Promise<number> {
  const spec = writeSpec(path.join(dir, 'sleep.yml'), 'node', 'export const main = async (e) => { await new Promise((r) => setTimeout(r, 50)); return e; }');
  const input = writeItems(path.join(dir, 'sleep.jsonl'), 200);
  const a = await worker(url, spec, 1);
  const b = await worker(url, spec, 1);
  try {
    const producer = spawn(process.execPath, [bin, 'run', '-s', spec, '-d', input, '--redis', url], { stdio: ['ignore', 'ignore', 'pipe'] });
    const ended = new Promise<number | null>((resolve) => producer.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await stop(a, 'SIGKILL');
    const killedAt = process.hrtime.bigint();
    if ((await ended) !== 0) throw new Error('the run with a killed worker failed');
    return Number(process.hrtime.bigint() - killedAt) / 1e9;
  } finally {
    await stop(b);
  }
}

export function formatRemote(r: RemoteReport): string {
  if (r.skipped !== undefined) return `skipped: ${r.skipped}`;
  const rows = [
    ['polytask run --redis, one polytask worker -p 2 (node handler)', fmt.int(r.items), fmt.int(r.polytask), '1.00x'],
    [`raw BullMQ, ${r.perJob} items per job (a JS worker, no child processes)`, fmt.int(r.items), fmt.int(r.bullmqBlocks), fmt.x(r.polytask / r.bullmqBlocks)],
    ['raw BullMQ, one job per item', fmt.int(r.singleItems), fmt.int(r.bullmqSingle), fmt.x(r.polytask / r.bullmqSingle)],
  ];
  return [
    `Trivial items end to end (start-up included), on a redis-server on a Unix socket on this machine; median of ${r.rounds} rounds (one for one job per item).`,
    '',
    table(['', 'items', 'items/s', 'polytask over this'], rows),
    '',
    `Redis used_memory after a ${fmt.int(r.bigItems)}-item run: ${fmt.mb(r.redisUsedMb)} MB 3 s after it ended, ${fmt.mb(r.redisAtEndMb)} MB as it ended, while an idle worker's query buffer was still grown (fresh: ${fmt.mb(r.redisFreshMb)} MB; after the first ${fmt.int(r.items)}-item run, with BullMQ's scripts loaded: ${fmt.mb(r.redisWarmMb)} MB; after the big run and CONFIG RESETSTAT, which frees Redis 7's per-command latency histograms: ${fmt.mb(r.redisNoStatsMb)} MB). ` +
      `Producer peak RSS: ${fmt.mb(r.producerPeakMb[0])} MB at ${fmt.int(r.items)} items, ${fmt.mb(r.producerPeakMb[1])} MB at ${fmt.int(r.bigItems)} (${fmt.x(r.producerPeakMb[1] / r.producerPeakMb[0])}). ` +
      `A worker killed with -9 (two workers, 200 items of 50 ms): the run ended ${r.recoverySeconds.toFixed(1)} s after the kill.`,
  ].join('\n');
}
