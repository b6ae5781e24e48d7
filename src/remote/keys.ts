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
 * 3: a result line's `+<reruns>`.
 */
export const wireVersion = 3;

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

  get workerPattern(): string {
    return `${prefix}:${this.queue}:worker:*`;
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

/** The workers alive on a queue (by their heartbeats) and their children in all (at least 1) */
export async function countWorkers(redis: Redis, keys: Keys): Promise<{ workers: number; slots: number }> {
  let workers = 0;
  let slots = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.workerPattern, 'COUNT', 1000);
    cursor = next;
    if (found.length === 0) continue;
    for (const value of await redis.mget(found)) {
      if (value === null) continue;
      workers++;
      slots += Number(value) || 1;
    }
  } while (cursor !== '0');
  return { workers, slots: Math.max(1, slots) };
}
