// Names in Redis, and the timing both sides agree on. A queue is named from a hash of the spec,
// its code and the wire format's version, so a producer only ever reaches workers that run the
// same code and read its jobs as it wrote them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { ResolvedSpec } from '../spec/load.js';

/** BullMQ's key prefix for polytask's queues */
export const prefix = 'polytask';

/**
 * The version of what travels through Redis (jobs and results entries, wire.ts), in every
 * queue's name: producers and workers of polytask releases that write it differently never
 * share a queue (the producer finds no worker and says so). 2: a job's item numbers as `first`;
 * 3: a result line's `+<reruns>`; 4: the producer makes its results stream and workers only
 * append to one that is there (XADD NOMKSTREAM), workers listed in a set.
 */
export const wireVersion = 4;

export const timing = {
  // a worker holds a job's lock this long and renews it at half; a worker killed with -9 has its
  // jobs found by another worker's stalled check (every stalledInterval) once the lock is gone:
  // back in the queue within lockDuration + stalledInterval = 6 s (BullMQ's defaults: 60 s)
  lockDuration: 4000,
  stalledInterval: 2000,
  // a job whose worker died this many times fails; the producer then sends its items again
  // alone, and fails an item lost with its worker more than `lostLimit` times
  maxStalledCount: 2,
  lostLimit: 3,
  // workers and runs say they are alive this often, and are taken for gone after the TTL
  heartbeatMs: 1000,
  workerTtlMs: 5000,
  // long enough for a producer whose event loop is blocked for a few seconds
  runTtlMs: 15_000,
  // a worker checks that the runs it works for are still there this often
  runCheckMs: 500,
  // a worker sends the results it has this often while a job runs
  flushMs: 50,
  // the producer looks for jobs that ended without their results this often
  reconcileMs: 2000,
} as const;

/** The queue for a spec: its exec type, handler, hooks, arguments, the code's text and the wire version */
export function queueName(spec: ResolvedSpec): string {
  const code = spec.code === null ? null : spec.code.type === 'path' ? readFileSync(spec.code.data, 'utf8') : spec.code.data;
  const identity = JSON.stringify([wireVersion, spec.spec.exec_type, spec.handler, spec.setupHook, spec.exitFromReturn, spec.handlerArgs ?? [], code]);
  return `spec-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

/** polytask's own keys beside a queue's */
export class Keys {
  constructor(readonly queue: string) {}

  /** A worker's heartbeat: its process count, with a TTL */
  worker(id: string): string {
    return `${prefix}:${this.queue}:worker:${id}`;
  }

  /** The ids of the workers that said they were alive (each with its heartbeat key) */
  get workers(): string {
    return `${prefix}:${this.queue}:workers`;
  }

  /** A run's heartbeat: workers drop the items of a run whose key is gone */
  run(runId: string): string {
    return `${prefix}:${this.queue}:run:${runId}`;
  }

  /** The stream workers append a run's results to */
  results(runId: string): string {
    return `${prefix}:${this.queue}:results:${runId}`;
  }
}

/**
 * The workers alive on a queue (by their heartbeats) and their children in all (at least 1).
 * From the queue's set of workers, not a SCAN, which would walk every key of the database; a
 * worker whose heartbeat has expired leaves the set here.
 */
export async function countWorkers(redis: Redis, keys: Keys): Promise<{ workers: number; slots: number }> {
  const ids = await redis.smembers(keys.workers);
  const beats = ids.length === 0 ? [] : await ids.reduce((pipeline, id) => pipeline.get(keys.worker(id)), redis.pipeline()).exec();
  let workers = 0;
  let slots = 0;
  const gone: string[] = [];
  ids.forEach((id, i) => {
    const value = beats?.[i]?.[1];
    if (typeof value !== 'string') {
      gone.push(id);
      return;
    }
    workers++;
    slots += Number(value) || 1;
  });
  if (gone.length > 0) await redis.srem(keys.workers, ...gone);
  return { workers, slots: Math.max(1, slots) };
}

/**
 * A run's heartbeat: its results stream made (again, after Redis lost it) with an entry the
 * reader passes over, then the run key that lets workers take its jobs. Workers append only to
 * a stream that is there, so it comes first; both expire when the producer stops renewing them.
 */
export function runHeartbeat(redis: Redis, keys: Keys, runId: string): Promise<unknown> {
  const results = keys.results(runId);
  return redis.pipeline().xadd(results, '*', 'h', '').pexpire(results, 4 * timing.runTtlMs).set(keys.run(runId), '1', 'PX', timing.runTtlMs).exec();
}
