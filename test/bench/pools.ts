// The pools of the futures and latency suites, 2 workers each, on the same trivial call
// (`x => x + 1`): polytask's task(), raw tinypool, piscina, workerpool, and the limit: two bare
// worker_threads answering one message per call, with every call in flight at once.
// The peers' worker files are in test/bench/workers/.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { task } from '../../src/index.js';
import { workers } from './common.js';

export interface Contestant {
  name: string;
  kind: 'polytask' | 'peer' | 'limit';
  call: (x: number) => PromiseLike<number>;
  close: () => Promise<unknown>;
}

export const size = 2;

// Two bare workers, round robin, one postMessage each way per call
function rawThreads(): Omit<Contestant, 'name' | 'kind'> {
  const threads = Array.from({ length: size }, () => new Worker(path.join(workers, 'echo-thread.mjs')));
  const waiting = new Map<number, (value: number) => void>();
  for (const thread of threads) thread.on('message', ([id, value]: [number, number]) => {
    const resolve = waiting.get(id)!;
    waiting.delete(id);
    resolve(value);
  });
  let next = 0;
  return {
    call: (x) => new Promise<number>((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      threads[id % size]!.postMessage([id, x]);
    }),
    close: () => Promise.all(threads.map((t) => t.terminate())),
  };
}

// Each pool is created only when asked for
const makers: { name: string; kind: Contestant['kind']; start: () => Omit<Contestant, 'name' | 'kind'> }[] = [
  {
    name: 'polytask task(fn, { concurrency: 2 })',
    kind: 'polytask',
    start: () => {
      const inc = task((x: number) => x + 1, { concurrency: size });
      return { call: (x) => inc(x), close: () => inc.close() };
    },
  },
  {
    name: 'tinypool (min/maxThreads 2)',
    kind: 'peer',
    start: () => {
      const pool = new Tinypool({ filename: path.join(workers, 'inc.mjs'), minThreads: size, maxThreads: size });
      return { call: (x) => pool.run(x) as Promise<number>, close: () => pool.destroy() };
    },
  },
  {
    name: 'piscina (defaults, min/maxThreads 2)',
    kind: 'peer',
    start: () => {
      const pool = new Piscina<number, number>({ filename: path.join(workers, 'inc.mjs'), minThreads: size, maxThreads: size });
      return { call: (x) => pool.run(x), close: () => pool.destroy() };
    },
  },
  {
    name: 'workerpool (maxWorkers 2), exec',
    kind: 'peer',
    start: () => {
      const pool = workerpool.pool(path.join(workers, 'inc-workerpool.mjs'), { maxWorkers: size });
      return { call: (x) => pool.exec('inc', [x]) as PromiseLike<number>, close: () => Promise.resolve(pool.terminate()) };
    },
  },
  { name: 'limit: 2 bare worker_threads, one message per call', kind: 'limit', start: rawThreads },
];

export function startPools(): Contestant[] {
  return makers.map(({ name, kind, start }) => ({ ...start(), name, kind }));
}

export async function closePools(pools: Contestant[]): Promise<void> {
  // every pool, even after a failure, so that the process can exit
  await Promise.allSettled(pools.map((c) => c.close()));
}

// Submits `calls` calls at once, awaits them all, checks the results; seconds taken
export async function batch(contestant: Contestant, calls: number): Promise<number> {
  const start = process.hrtime.bigint();
  const results = await Promise.all(Array.from({ length: calls }, (_, i) => contestant.call(i)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (let i = 0; i < calls; i++) {
    if (results[i] !== i + 1) throw new Error(`${contestant.name}: call ${i} returned ${String(results[i])}, not ${i + 1}`);
  }
  return seconds;
}

// Microseconds of each of `calls` calls awaited one after the other
export async function roundTrips(contestant: Contestant, calls: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = process.hrtime.bigint();
    const value = await contestant.call(i);
    times.push(Number(process.hrtime.bigint() - start) / 1e3);
    if (value !== i + 1) throw new Error(`${contestant.name}: call ${i} returned ${String(value)}, not ${i + 1}`);
  }
  return times;
}

// 0..n-1 starting at `shift` (mod n): the order of the pools in a round, rotating
export function rotation(n: number, shift: number): number[] {
  return Array.from({ length: n }, (_, i) => (i + shift) % n);
}
