// A worker (`polytask worker`): takes jobs (blocks of items) from BullMQ and runs their items on
// a local lane (worker-jobs.ts: a spec's ProcessPool, or a ThreadPool for JavaScript calls in
// js-lane.ts), sending each result to the run's results stream as it comes (every flushMs),
// before the job completes. A job of a run that is gone (its producer stopped or died) is
// dropped, and its running items are cancelled (a job of trivial items run as one `lines` block
// cannot be: it ends within its few ms, and its results are not sent).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Job, Worker as BullWorker } from 'bullmq';
import type { Redis } from 'ioredis';
import { OptionError } from '../errors.js';
import { knownOptions, optionKeys, checkOptions, isNonNegativeMs } from '../options.js';
import { ProcessPool, poolOptionKeys, type PoolOptions } from '../pool/process/pool.js';
import type { ResolvedSpec } from '../spec/load.js';
import { checkVersion, connect, redisTarget, type RedisTarget } from './connection.js';
import { inlineQueue, moduleQueue, sharedSecret } from './js-calls.js';
import { JsLane } from './js-lane.js';
import { Keys, prefix, queueName, timing } from './keys.js';
import type { JobData } from './wire.js';
import { asBlock, joinResults, runBlock, runCalls, type Lane, type RecordResult, type RecordWhole } from './worker-jobs.js';

export const remoteWorkerOptionKeys = optionKeys<RemoteWorkerOptions>()([...poolOptionKeys, 'redis', 'graceMs', 'onError', 'onResults']);
const jsWorkerOptionKeys = ['redis', 'graceMs', 'onError', 'onResults', 'processes'] as const;

/** What a JavaScript worker runs: module tasks under a folder, and/or signed inline functions */
export interface JavaScriptTarget {
  /** Module tasks whose module is under this folder (the producer's copy must be the same code) */
  moduleRoot?: string;
  /** Inline function tasks, signed with the shared secret in POLYTASK_SECRET */
  allowInline?: boolean;
}

/** Options of `RemoteWorker` (`polytask worker`): its local pool's, and these */
export interface RemoteWorkerOptions extends PoolOptions {
  /** Redis URL: `redis://[user:password@]host:port[/db]`, `rediss://...` or `redis+unix:///path` */
  redis: string;
  /**
   * ms running items may still take after stop() before they are handed back to the queue
   * (their jobs go back to waiting, for another worker).
   * @default 500
   */
  graceMs?: number;
  /**
   * Hears what goes wrong between the worker and Redis (a lost connection, a failed write).
   * @default prints one line on stderr
   */
  onError?: (error: Error) => void;
  /**
   * Hears how many results it sent, and how many of them failed, each time it sends some (for
   * a progress line).
   * @default none
   */
  onResults?: (count: number, failed: number) => void;
}

interface Running {
  // the run's heartbeat key
  runKey: string;
  // the local calls' cancel listeners
  cancels: (() => void)[];
  // 'dropped': its run is gone; 'handBack': stop() ran out of grace
  state: 'running' | 'dropped' | 'handBack';
  stop: () => void;
}

/** Takes a spec's (or JavaScript tasks') jobs from Redis and runs them on local children */
export class RemoteWorker {
  /** The queues it serves: one for a spec; a module root's and/or the inline one for JavaScript */
  readonly queues: string[];
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  /** The local children (or threads) that run the items */
  readonly pool: Lane;
  readonly #target: RedisTarget;
  // connected by start()
  #redis!: Redis;
  readonly #graceMs: number;
  readonly #onError: (error: Error) => void;
  readonly #onResults: ((count: number, failed: number) => void) | undefined;
  readonly #running = new Map<string, Running>();
  // ms an item took on a child in the last job, and whether trivial jobs may go as lines blocks
  // (as for a local run: not with the pool's own timeout, task quota or retries of errors)
  #itemMs: number | undefined;
  readonly #blocks: boolean;
  readonly #bull: BullWorker<JobData>[] = [];
  #bullRedis: Redis | undefined;
  #timers: NodeJS.Timeout[] = [];
  #stopping: Promise<void> | undefined;

  constructor(target: ResolvedSpec | JavaScriptTarget, options: RemoteWorkerOptions) {
    const isSpec = 'launch' in target;
    knownOptions(isSpec ? 'RemoteWorker' : 'RemoteWorker (JavaScript)', options, isSpec ? remoteWorkerOptionKeys : jsWorkerOptionKeys);
    checkOptions(options, { graceMs: isNonNegativeMs });
    const { redis, graceMs = 500, onError, onResults, ...poolOptions } = options;
    this.#onResults = onResults;
    this.#target = redisTarget(redis);
    this.#graceMs = graceMs;
    this.#onError = onError ?? ((error) => process.stderr.write(`polytask worker: ${error.message}\n`));
    this.#blocks = poolOptions.timeout === undefined && poolOptions.maxTasksPerWorker === undefined && !(poolOptions.retryOn?.includes('error') ?? false);
    if (isSpec) {
      this.queues = [queueName(target)];
      this.pool = new ProcessPool(target, poolOptions);
    } else {
      const { moduleRoot, allowInline = false } = target;
      if (moduleRoot === undefined && !allowInline) throw new OptionError('A JavaScript worker needs moduleRoot (--module-root DIR), allowInline (--allow-inline), or both');
      const secret = allowInline ? sharedSecret('allowInline (--allow-inline)') : undefined;
      this.queues = [...(moduleRoot === undefined ? [] : [moduleQueue(moduleRoot)]), ...(secret === undefined ? [] : [inlineQueue(secret)])];
      this.pool = new JsLane({ moduleRoot, secret }, poolOptions.processes);
    }
  }

  /** Where it takes jobs from, e.g. 'redis+unix:///tmp/r.sock, queue spec-1a2b...' */
  describe(): string {
    return `${this.#target.display}, queue ${this.queues.join(' and ')}`;
  }

  /** Starts the children, connects, and takes jobs until stop() */
  async start(): Promise<void> {
    await this.pool.start();
    const { Worker } = await import('./libraries.js');
    this.#redis = await connect(this.#target, `polytask-worker-${this.id}`);
    await this.#redis.connect();
    await checkVersion(this.#redis, this.#target);
    await this.#heartbeat();
    this.#bullRedis = await connect(this.#target, `polytask-worker-${this.id}-queue`, false);
    for (const queue of this.queues) {
      const bull = new Worker<JobData>(queue, (job, token) => this.#process(job, token), {
        connection: this.#bullRedis,
        prefix,
        // a job per child and one more fetched ahead: slow items (blocks of one) use every child
        concurrency: this.pool.processes + 1,
        lockDuration: timing.lockDuration,
        stalledInterval: timing.stalledInterval,
        maxStalledCount: timing.maxStalledCount,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
      });
      bull.on('error', (error) => this.#onError(error));
      this.#bull.push(bull);
      await bull.waitUntilReady();
    }
    this.#timers.push(
      setInterval(() => void this.#heartbeat().catch((error: Error) => this.#onError(error)), timing.heartbeatMs),
      setInterval(() => void this.#dropGoneRuns().catch((error: Error) => this.#onError(error)), timing.runCheckMs),
    );
  }

  // Its key first, then its id in the queue's set: an id a producer finds there has its key
  // (countWorkers); the set goes with the last worker that renews it
  #heartbeat(): Promise<unknown> {
    const pipeline = this.#redis.pipeline();
    for (const queue of this.queues) {
      const keys = new Keys(queue);
      pipeline.set(keys.worker(this.id), String(this.pool.processes), 'PX', timing.workerTtlMs).sadd(keys.workers, this.id).pexpire(keys.workers, timing.workerTtlMs);
    }
    return pipeline.exec();
  }

  // Cancels the items of runs whose producer is gone (stopped, Ctrl-C, or dead past its TTL)
  async #dropGoneRuns(): Promise<void> {
    const runKeys = [...new Set([...this.#running.values()].map((r) => r.runKey))];
    if (runKeys.length === 0) return;
    const alive = await Promise.all(runKeys.map((key) => this.#redis.exists(key)));
    const gone = new Set(runKeys.filter((_, i) => alive[i] === 0));
    for (const running of this.#running.values()) {
      if (gone.has(running.runKey) && running.state === 'running') this.#end(running, 'dropped');
    }
  }

  #end(running: Running, state: 'dropped' | 'handBack'): void {
    running.state = state;
    running.stop();
    for (const cancel of running.cancels) cancel();
  }

  async #process(job: Job<JobData>, token: string | undefined): Promise<void> {
    const { run, timeout } = job.data;
    const keys = new Keys(job.queueName);
    const runKey = keys.run(run);
    if ((await this.#redis.exists(runKey)) === 0) return;
    const stream = keys.results(run);
    // the producer hears that the job's items started (their timeouts count from here). Its
    // stream is the producer's to make and to delete: a worker appends only to a stream that
    // is there (NOMKSTREAM), so none outlives its run
    this.#redis.xadd(stream, 'NOMKSTREAM', '*', 's', job.id!).catch((error: Error) => this.#onError(error));
    const running: Running = { runKey, cancels: [], state: 'running', stop: () => {} };
    this.#running.set(job.id!, running);
    const started = performance.now();
    try {
      await new Promise<void>((resolve, reject) => {
        // results lines: one each, or several as bytes (a lines block's); and whole output lines
        let buffered: (string | Buffer)[] = [];
        let whole: (string | Buffer)[] = [];
        let count = 0;
        let failed = 0;
        let sending: Promise<unknown> = Promise.resolve();
        const send = (fields: string[] = []) => {
          if (buffered.length === 0 && whole.length === 0 && fields.length === 0) return;
          const entry: (string | Buffer)[] = [];
          if (buffered.length > 0 || whole.length === 0) entry.push('r', joinResults(buffered));
          if (whole.length > 0) entry.push('w', Buffer.concat(whole.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece))));
          this.#onResults?.(count, failed);
          buffered = [];
          whole = [];
          count = failed = 0;
          sending = sending.then(() => this.#redis.xadd(stream, 'NOMKSTREAM', '*', ...entry, ...fields));
        };
        const timer = setInterval(send, timing.flushMs);
        running.stop = () => {
          clearInterval(timer);
          resolve();
        };
        const onAbort = (listener: () => void) => {
          running.cancels.push(listener);
          return () => {};
        };
        const record: RecordResult = (lines, n, fails) => {
          if (running.state !== 'running') return;
          buffered.push(lines);
          count += n;
          failed += fails;
        };
        const recordWhole: RecordWhole = (pieces, n, fails) => {
          if (running.state !== 'running') return;
          whole.push(...pieces);
          count += n;
          failed += fails;
        };
        const done = (items: number) => {
          if (running.state !== 'running') return;
          clearInterval(timer);
          // the cost of an item on one child, for the producer's block size (and this worker's)
          const itemMs = ((performance.now() - started) * this.pool.processes) / items;
          this.#itemMs = itemMs;
          send(['t', itemMs.toFixed(3)]);
          sending.then(() => resolve(), reject);
        };
        if (this.#blocks && asBlock(this.pool, job.data, this.#itemMs)) runBlock(this.pool, job.data, record, recordWhole, done);
        else runCalls(this.pool, job.data, { onAbort, ...(timeout === null ? {} : { timeout }) }, record, done);
      });
    } finally {
      this.#running.delete(job.id!);
    }
    if (running.state === 'handBack') {
      await job.moveToWait(token);
      const { WaitingError } = await import('./libraries.js');
      throw new WaitingError();
    }
  }

  /**
   * Takes no more jobs; running items may finish within `graceMs`, then are handed back to the
   * queue (another worker runs them); ends the children and disconnects. A second call waits
   * for the first.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const timer of this.#timers) clearInterval(timer);
      const grace = setTimeout(() => {
        for (const running of this.#running.values()) if (running.state === 'running') this.#end(running, 'handBack');
      }, this.#graceMs);
      try {
        // with Redis gone, BullMQ's close waits for a server that may never come back: past the
        // grace and a few seconds more, close without waiting (the lock's expiry then hands the
        // running items on, as after a kill -9)
        const closed = Promise.all(this.#bull.map((bull) => bull.close()));
        if (!(await settlesWithin(closed, this.#graceMs + timing.lockDuration))) {
          for (const bull of this.#bull) void bull.close(true).catch(() => {});
        }
      } finally {
        clearTimeout(grace);
        await this.pool.close();
        const gone = this.#redis?.pipeline();
        for (const queue of this.queues) gone?.del(new Keys(queue).worker(this.id)).srem(new Keys(queue).workers, this.id);
        await settlesWithin(gone?.exec(), 1000);
        this.#bullRedis?.disconnect();
        this.#redis?.disconnect();
      }
    })();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

// Whether a promise settles (either way) within ms; it is never waited for longer
async function settlesWithin(promise: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([Promise.resolve(promise).then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
