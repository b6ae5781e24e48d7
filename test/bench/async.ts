// Calls that wait (issue 13, point 1): 40 calls of an async function that waits 200 ms, on
// 2 workers, submitted at once and awaited with Promise.all: polytask's task() (calls that wait
// overlap, 16 per worker by default; and with concurrentTasksPerWorker 1, as before) beside
// piscina with its default (one call per worker at a time) and with concurrentTasksPerWorker 16.
// Lower bound: 200 ms (every call at once); one call per worker at a time: 40 / 2 x 200 ms = 4 s.
import path from 'node:path';
import { Piscina } from 'piscina';
import { task } from '../../src/index.js';
import { fmt, median, table, workers, type BenchContext } from './common.js';
import { rotation } from './pools.js';

export const asyncCalls = 40;
export const asyncWaitMs = 200;
const size = 2;

interface Waiter {
  name: string;
  kind: 'polytask' | 'peer';
  call: (ms: number) => PromiseLike<number>;
  close: () => Promise<unknown>;
}

export interface AsyncResult {
  name: string;
  kind: Waiter['kind'];
  // median seconds for all the calls, and each round's
  seconds: number;
  rounds: number[];
}

export interface AsyncReport {
  calls: number;
  waitMs: number;
  workers: number;
  results: AsyncResult[];
}

function polytask(perWorker?: number): Omit<Waiter, 'kind'> {
  const wait = task(async (ms: number) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  }, { concurrency: size, ...(perWorker === undefined ? {} : { concurrentTasksPerWorker: perWorker }) });
  const name = perWorker === undefined ? 'polytask task(async fn, { concurrency: 2 }) (default 16 per worker)' : `polytask, concurrentTasksPerWorker: ${perWorker}`;
  return { name, call: (ms) => wait(ms), close: () => wait.close() };
}

function piscina(perWorker?: number): Omit<Waiter, 'kind'> {
  const pool = new Piscina<number, number>({
    filename: path.join(workers, 'wait.mjs'), minThreads: size, maxThreads: size,
    ...(perWorker === undefined ? {} : { concurrentTasksPerWorker: perWorker }),
  });
  const name = perWorker === undefined ? 'piscina (defaults: 1 per worker)' : `piscina, concurrentTasksPerWorker: ${perWorker}`;
  return { name, call: (ms) => pool.run(ms), close: () => pool.destroy() };
}

// Submits the calls at once and awaits them; seconds taken
async function round(waiter: Waiter): Promise<number> {
  const start = process.hrtime.bigint();
  const values = await Promise.all(Array.from({ length: asyncCalls }, () => waiter.call(asyncWaitMs)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (values.some((v) => v !== asyncWaitMs)) throw new Error(`${waiter.name}: a call returned something else than ${asyncWaitMs}`);
  return seconds;
}

export async function runAsync(ctx: BenchContext): Promise<AsyncReport> {
  const waiters: Waiter[] = [
    { ...polytask(), kind: 'polytask' },
    { ...polytask(1), kind: 'polytask' },
    { ...piscina(), kind: 'peer' },
    { ...piscina(16), kind: 'peer' },
  ];
  try {
    // starts the workers
    for (const waiter of waiters) await Promise.all(Array.from({ length: size }, () => waiter.call(1)));
    const times = waiters.map((): number[] => []);
    for (let r = 0; r < ctx.rounds; r++) {
      for (const i of rotation(waiters.length, r)) times[i]!.push(await round(waiters[i]!));
    }
    ctx.log(`async: measured ${asyncCalls} calls of ${asyncWaitMs} ms`);
    return {
      calls: asyncCalls,
      waitMs: asyncWaitMs,
      workers: size,
      results: waiters.map((w, i) => ({ name: w.name, kind: w.kind, seconds: median(times[i]!), rounds: times[i]! })),
    };
  } finally {
    await Promise.allSettled(waiters.map((w) => w.close()));
  }
}

export function formatAsync(report: AsyncReport): string {
  return [
    `${report.calls} calls of an async function that waits ${report.waitMs} ms, submitted at once and awaited with Promise.all, ` +
      `${report.workers} workers, median of the rounds. All at once: ${fmt.s(report.waitMs / 1000)} s; one call per worker at a time: ` +
      `${fmt.s((report.calls / report.workers) * report.waitMs / 1000)} s.`,
    '',
    table(['pool', 'seconds', 'rounds'], report.results.map((r) => [r.name, fmt.s(r.seconds), r.rounds.map(fmt.s).join(', ')])),
  ].join('\n');
}
