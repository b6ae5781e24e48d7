// RemoteExecutor: the Executor of a spec's items over Redis. Items are packed into BullMQ jobs
// (blocks of about 200 ms of work, at most 1,000 items or 256 KB), sent with addBulk; workers
// (`polytask worker`, worker.ts) append each item's result to this run's results stream, read
// by ResultsReader. Every reconcileMs the jobs not fully answered are looked up by id: one that
// is gone without all its results has its missing items sent again (at-least-once execution,
// exactly one result per item).
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConnectionError, errorInfo, PoolClosedError, SetupError } from '../errors.js';
import { abortedAlready, cancelReason, onCancel } from '../pool/cancel.js';
import { runOn, type CloseOptions, type Receiver, type RunOptions } from '../pool/executor.js';
import { jsonOf, resultOf, type ItemExecutor, type ItemResult, type RawOptions, type RawResult, type RawResultCallback } from '../pool/items.js';
import { cancelled, failure, parseRaw } from '../pool/process/call.js';
import { toError } from '../pool/process/errors.js';
import type { PoolStats } from '../pool/process/stats.js';
import { RetryPolicy } from '../pool/retry.js';
import { exitCodes } from '../protocol/exit-codes.js';
import type { ResolvedSpec } from '../spec/load.js';
import { checkVersion, connect, LoopHold, Outage, redisTarget, type RedisTarget } from './connection.js';
import { Block, type BlockLines, type BlockOwner } from './block.js';
import { BlockFlight } from './blocks.js';
import { InFlight, type Item } from './inflight.js';
import { countWorkers, Keys, prefix, queueName, runHeartbeat, timing } from './keys.js';
import { checkRemoteOptions, type RemoteOptions, type RemoteRoute } from './options.js';
import { ResultsReader, type ResultsEntry } from './results.js';
import { RemoteStats } from './stats.js';
import { Sender } from './sender.js';
import { forEachResult } from './wire.js';

export type { RemoteOptions, RemoteRoute } from './options.js';

export class RemoteExecutor implements ItemExecutor {
  readonly queue: string;
  readonly runId = randomBytes(6).toString('hex');
  readonly #target: RedisTarget;
  readonly #keys: Keys;
  // connected by start()
  #redis: Redis | undefined;
  #outage: Outage | undefined;
  readonly #options: RemoteOptions;
  readonly #stats = new RemoteStats();
  readonly #inflight: InFlight;
  readonly #blocks = new BlockFlight(this.#stats, (numbers, items) => this.#sender!.addJob(numbers, items));
  #sender: Sender | undefined;
  #reader: ResultsReader | undefined;
  #bull: Queue | undefined;
  #bullRedis: Redis | undefined;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #fatal: Error | undefined;
  #timers: NodeJS.Timeout[] = [];
  readonly #hold = new LoopHold();
  #nextId = 1;
  readonly #encode: (item: unknown) => string | ItemResult = jsonOf;
  // what its workers run, and the flags that start one: for the message when there is none
  readonly #serves: readonly [string, string] = ['this spec', '-s SPEC'];
  #slots = 1;
  #workers = 0;
  /** Always: a worker checks each item its children do not decode on their own (RemoteWorker) */
  readonly decodesEachItem = true;

  /** A spec's items, or (for JavaScript calls) a queue and how a call is written for it */
  constructor(target: ResolvedSpec | RemoteRoute, options: RemoteOptions) {
    checkRemoteOptions(options);
    this.#target = redisTarget(options.redis);
    this.#options = options;
    this.#inflight = new InFlight(this.#stats, new RetryPolicy(options), (item) => this.#sender!.add(item), () => this.#closing !== undefined);
    this.queue = 'queue' in target ? target.queue : queueName(target);
    if ('queue' in target) {
      this.#encode = target.encode;
      this.#serves = target.serves;
    }
    this.#keys = new Keys(this.queue);
  }

  get size(): number {
    return this.#inflight.size + this.#blocks.size;
  }

  /** Items a job holds now (the workers' measure of an item's time sets it) */
  get blockSize(): number {
    return this.#sender?.blockSize ?? 8;
  }

  /** Enough blocks in flight to keep every worker's children busy */
  get capacity(): number {
    return Math.max(64, this.#slots * this.blockSize * 2);
  }

  start(): Promise<void> {
    return (this.#starting ??= this.#start());
  }

  async #start(): Promise<void> {
    if (this.#closing !== undefined) throw new PoolClosedError();
    try {
      this.#redis = await connect(this.#target, `polytask-run-${this.runId}`);
      this.#outage = new Outage(this.#redis);
      await this.#redis.connect();
    } catch (error) {
      throw new SetupError(`cannot reach Redis at ${this.#target.display}: ${errorInfo(error).message}`, { cause: error });
    }
    await checkVersion(this.#redis, this.#target);
    await this.#countWorkers();
    if (this.#workers === 0) throw new SetupError(`no polytask worker is serving ${this.#serves[0]} on ${this.#target.display} (queue ${this.queue}); start one with: polytask worker --redis URL ${this.#serves[1]}`);
    await this.#heartbeat();
    const { Queue } = await import('./libraries.js');
    this.#bullRedis = await connect(this.#target, `polytask-run-${this.runId}-queue`, false);
    // BullMQ's events are not read (results come on the run's own stream): keep few of them
    this.#bull = new Queue(this.queue, { connection: this.#bullRedis, prefix, streams: { events: { maxLen: 100 } } });
    this.#bull.on('error', () => {});
    this.#sender = new Sender(this.#bull, this.runId, this.#inflight, (jobIds) => {
      this.#inflight.markGone(jobIds);
      this.#blocks.markGone(jobIds);
    });
    const reader = this.#redis!.duplicate();
    reader.on('error', () => {});
    this.#reader = new ResultsReader(reader, this.#redis!, this.#keys.results(this.runId), (entry) => this.#onEntry(entry));
    this.#timers.push(
      setInterval(() => void this.#heartbeat().catch(() => {}), timing.heartbeatMs),
      setInterval(() => void this.#reconcile().catch(() => {}), timing.reconcileMs),
      setInterval(() => void this.#countWorkers().catch(() => {}), timing.workerTtlMs),
      setInterval(() => this.#watchOutage(), 500),
    );
    // items in flight hold the event loop through the connections that wait for their results;
    // idle (nothing in flight), they let Node exit, as an idle local pool does
    for (const timer of this.#timers) timer.unref();
    for (const redis of [this.#redis!, this.#bullRedis, reader]) this.#hold.add(redis);
    this.#updateHold();
  }

  #updateHold(): void {
    this.#hold.set(this.size > 0 || this.#closing !== undefined);
  }

  async #countWorkers(): Promise<void> {
    ({ workers: this.#workers, slots: this.#slots } = await countWorkers(this.#redis!, this.#keys));
  }

  #heartbeat(): Promise<unknown> {
    return runHeartbeat(this.#redis!, this.#keys, this.runId);
  }

  #watchOutage(): void {
    const limit = this.#options.redisTimeout ?? 30_000;
    if (this.#fatal !== undefined || this.#outage === undefined || this.#outage.downFor() <= limit) return;
    const why = this.#outage.lastError?.message ?? 'connection closed';
    this.#fatal = new ConnectionError(`lost Redis at ${this.#target.display} for more than ${Math.round(limit / 1000)} s (${why})`);
    this.#options.onFatal?.(this.#fatal);
    void this.close();
  }

  #onEntry({ started, results, whole, itemMs }: ResultsEntry): void {
    if (started !== undefined) this.#inflight.started(started);
    if (itemMs !== undefined) this.#sender?.measured(itemMs);
    const now = performance.now();
    if (results !== undefined) forEachResult(results, ({ id, exit, fromReturn, reruns, rest }) => {
      // a success's fields go to a block's owner as bytes; anything else is read as text
      const text = exit === 0 && !fromReturn ? undefined : rest.bytes.toString('utf8', rest.start, rest.end);
      if (this.#blocks.answer(id, exit, text ?? rest, fromReturn, reruns) === undefined) this.#inflight.result(id, exit, text ?? rest.bytes.toString('utf8', rest.start, rest.end), fromReturn, reruns, now);
    });
    if (whole !== undefined) this.#blocks.answerWhole(whole);
    this.#blocks.settle();
    this.#updateHold();
  }

  // Jobs gone from the queue (done, failed, lost with Redis) whose results were all read by
  // now, but not all came: their missing items go again, or fail after timing.lostLimit losses
  async #reconcile(): Promise<void> {
    const bull = this.#bull;
    if (bull === undefined || this.#closing !== undefined) return;
    this.#blocks.sweep();
    const ids = [...this.#inflight.jobs.keys(), ...this.#blocks.jobs.keys()];
    const states = await Promise.all(ids.map((id) => bull.getJobState(id)));
    const gone = ids.filter((_, i) => states[i] === 'unknown' || states[i] === 'completed' || states[i] === 'failed');
    this.#blocks.sendAgain(this.#blocks.lost(gone, this.#reader?.caughtUpTo ?? 0));
    this.#inflight.sendLostAgain(this.#inflight.lost(gone, this.#reader?.caughtUpTo ?? 0));
    this.#updateHold();
  }

  // Answers an item with a result made here (a failure, a cancellation)
  #answerHere(item: Item, result: ItemResult): void {
    this.#inflight.answerHere(item, result);
    this.#updateHold();
  }

  submit(item: unknown, receiver: Receiver<ItemResult>): void {
    if (abortedAlready(receiver)) {
      receiver.reject(cancelReason(receiver, () => new PoolClosedError()));
      return;
    }
    // started on first use; a start that fails rejects with its own error (a SetupError)
    if (this.#sender === undefined && this.#closing === undefined) {
      this.start().then(() => this.submit(item, receiver), (error: unknown) => receiver.reject(error));
      return;
    }
    const json = this.#encode(item);
    if (typeof json !== 'string') {
      receiver.reject(toError(json));
      return;
    }
    let cancel: (() => void) | undefined;
    const unsubscribe = onCancel(receiver, () => cancel?.());
    this.submitRaw(json, (raw: RawResult) => {
      unsubscribe?.();
      const result = parseRaw(raw);
      if (result.error === undefined) receiver.resolve(result);
      else if (receiver.signal?.aborted === true) receiver.reject(receiver.signal.reason);
      else if (result.cancelled === true && this.#closing !== undefined) receiver.reject(this.#fatal ?? Object.assign(new PoolClosedError(), { result }));
      else receiver.reject(toError(result, receiver.timeout ?? this.#options.timeout));
    }, { ...(receiver.timeout === undefined ? {} : { timeout: receiver.timeout }), onAbort: (listener) => ((cancel = listener), () => {}), ...(receiver.onStart === undefined ? {} : { onStart: () => receiver.onStart!() }) });
  }

  /**
   * Runs input lines in one job (`polytask run`'s blocks: cli/run-remote.ts); `owner` hears each
   * line's result once. A line lost with its worker goes again, but the retry policy and
   * timeouts do not apply: the CLI sends blocks only when it has neither.
   */
  submitLines(lines: BlockLines, owner: BlockOwner): void {
    const block = new Block(this.#nextId, lines, owner);
    this.#nextId += block.count;
    this.#blocks.add(block);
    if (this.#closing !== undefined) this.#blocks.answerAll(block.lines(), cancelled(this.#fatal?.message ?? new PoolClosedError().message));
    else if (this.#sender !== undefined) this.#blocks.send(block);
    else this.start().then(() => this.#closing === undefined && this.#blocks.send(block), (error: unknown) => this.#blocks.answerAll(block.lines(), failure(exitCodes.itemFailed, errorInfo(error))));
    this.#updateHold();
  }

  submitRaw(json: string, done: RawResultCallback, options?: RawOptions): void {
    const item: Item = { id: this.#nextId++, json, done, onStart: options?.onStart, timeout: options?.timeout ?? this.#options.timeout ?? null, attempts: 1, retried: 0, lost: 0, job: undefined, sentAt: performance.now() };
    this.#inflight.add(item);
    this.#updateHold();
    if (this.#closing !== undefined) {
      this.#answerHere(item, cancelled(this.#fatal?.message ?? new PoolClosedError().message));
      return;
    }
    options?.onAbort?.(() => {
      if (this.#inflight.items.has(item.id)) this.#answerHere(item, cancelled('the call was cancelled'));
    });
    if (this.#sender !== undefined) this.#sender.add(item);
    // started on first use, as the other executors are
    else this.start().then(
      () => this.#inflight.items.has(item.id) && this.#sender!.add(item),
      (error: unknown) => this.#inflight.items.has(item.id) && this.#answerHere(item, failure(exitCodes.itemFailed, errorInfo(error))),
    );
  }

  run(item: unknown, options?: RunOptions): Promise<ItemResult> {
    return runOn(this, item, options);
  }

  result(item: unknown, options: RunOptions = {}): Promise<ItemResult> {
    return new Promise((resolve) => this.submit(item, { ...options, resolve, reject: (error) => resolve(resultOf(error)) }));
  }

  stats(): PoolStats {
    return this.#stats.snapshot();
  }

  /** None: the children are on the workers' machines */
  pids(): number[] {
    return [];
  }

  readyInfo(): string {
    return `${this.#target.display}, ${this.#workers} worker${this.#workers === 1 ? '' : 's'} with ${this.#slots} children on queue ${this.queue}`;
  }

  /**
   * Answers unfinished items as cancelled, removes this run's waiting jobs and its keys (workers
   * then drop its running items within runCheckMs), and disconnects. A second call waits for
   * the first.
   */
  close(_options: CloseOptions = {}): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#hold.set(true); // closing is work: Node waits for it
    await this.#starting?.catch(() => {});
    const message = this.#fatal?.message ?? new PoolClosedError().message;
    const jobs = [...this.#inflight.jobs.keys(), ...this.#blocks.jobs.keys()];
    for (const item of [...this.#inflight.items.values()]) this.#answerHere(item, cancelled(message));
    this.#blocks.answerAll(this.#blocks.unanswered(), cancelled(message));
    this.#reader?.stop();
    if (this.#fatal === undefined && this.#redis?.status === 'ready') {
      await Promise.all(jobs.map((id) => this.#bull?.remove(id).catch(() => 0)));
      await this.#redis.del(this.#keys.run(this.runId), this.#keys.results(this.runId)).catch(() => {});
    }
    await this.#bull?.close().catch(() => {});
    this.#bullRedis?.disconnect();
    this.#redis?.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
