// The parent's side of ThreadPool's calls: PendingCall, one call of run() from the queue to its
// settlement, and Batch, the calls one worker runs as one tinypool task (entry-batch.ts is the
// worker's side). Both are also the abort signal tinypool gets for their task (tinypool takes
// any { once, off } emitter): cheaper than an AbortController each.
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { deserializeError } from 'serialize-error';
import { TimeoutError } from '../../errors.js';
import type { Depth } from '../depth.js';
import type { Receiver } from '../executor.js';
import type { CrashReport, WireBatch, WireCall, WireMore, WireProgress } from './entry.js';

// a batch takes more calls while its worker's thread is busy less than this share of the time
const maxBusy = 0.5;
// calls a batch takes in all: both sides keep a batch's calls until it ends, so a batch that
// keeps taking calls ends after this many, and the next one starts afresh
const maxCalls = 2048;

// What a call and a batch need of their pool
export interface CallOwner {
  // a call settled
  forget(pending: PendingCall): void;
  // calls back to the front of the queue (their batch stopped); `isolated`: each runs alone
  requeue(calls: PendingCall[], isolated?: boolean): void;
  // up to `count` calls from the queue that may join a running batch (none while a worker is free)
  take(count: number): PendingCall[];
  // the batch ended or stopped
  ended(batch: Batch): void;
}

export class PendingCall {
  readonly wire: WireCall;
  // the caller's receiver: its RunOptions, and where the answer goes
  readonly options: Receiver<unknown>;
  readonly #pool: CallOwner;
  // the pool's list of calls not settled (live.ts)
  prevLive: PendingCall | undefined;
  nextLive: PendingCall | undefined;
  settled = false;
  started = false;
  // onStart was called (once, even for a call that runs again)
  #announced = false;
  // sent back after its worker died under a batch, or with moved arguments: runs alone
  isolated = false;
  // the buffers its arguments move to the worker thread
  transfer: (ArrayBuffer | MessagePort)[] | undefined;
  // the batch of more than one call that runs it
  batch: Batch | undefined;
  report: CrashReport | undefined;
  // ends its subscription to options.onAbort
  unsubscribe: (() => void) | undefined;
  // tinypool's listener: terminates the worker running the call, or drops it from its queue
  #abortTinypool: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(wire: WireCall, receiver: Receiver<unknown>, pool: CallOwner) {
    this.wire = wire;
    this.options = receiver;
    this.#pool = pool;
  }

  // Started by a worker: from now on a timeout or a cancel stops that worker
  start(): void {
    if (this.started || this.settled) return;
    this.started = true;
    const { timeout } = this.options;
    if (timeout !== undefined) this.#timer = setTimeout(() => this.fail(new TimeoutError(timeout)), timeout);
    if (this.#announced) return;
    this.#announced = true;
    this.options.onStart?.();
  }

  // Back in the queue: it starts again, with its whole timeout
  unstart(): void {
    this.started = false;
    clearTimeout(this.#timer);
  }

  // tinypool's side of the signal
  once(_event: 'abort', listener: () => void): void {
    this.#abortTinypool = listener;
  }

  off(): void {
    this.#abortTinypool = undefined;
  }

  succeed(value: unknown): void {
    if (this.#end()) this.options.resolve(value);
  }

  // Rejects, and (unless the pool is closing anyway) stops the worker if the call is running
  fail(error: unknown, stopWorker = true): void {
    if (!this.#end()) return;
    this.options.reject(error);
    const abort = this.#abortTinypool;
    this.#abortTinypool = undefined;
    // tinypool asserts the call is in its queue; the call is settled whatever happens there
    if (stopWorker) try { abort?.(); } catch {}
    if (stopWorker) this.batch?.stop();
  }

  #end(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.#timer);
    this.#pool.forget(this);
    return true;
  }
}

// Calls run by one worker as one tinypool task, and the calls added to it while it runs
export class Batch {
  readonly calls: PendingCall[];
  // the calls that have their outcome, by index; how many
  readonly #answered: boolean[] = [];
  outcomes = 0;
  // stopped (a call of it cancelled or timed out) or ended
  over = false;
  // the batch's port (worker threads); sends calls to the worker once it can
  port: MessagePort | undefined;
  send: ((calls: WireCall[]) => void) | undefined;
  // the uncaught exception a child process reported before it died
  report: CrashReport | undefined;
  // calls the worker has started (always the first ones; the first is started as it is handed
  // over), and calls of it waiting on a promise, at its last message
  #started = 1;
  #waiting = 0;
  // the share of time the worker's thread was busy lately, as it last said
  #busy = 1;
  // calls that may wait on a promise at once in the worker
  readonly #limit: number;
  #abortTinypool: (() => void) | undefined;
  readonly #pool: CallOwner;
  // learns how long calls take, from the time between outcomes: with calls that overlap, the
  // time the worker takes per call, which is what the size of a batch must be measured in
  readonly #sizer: Depth;
  #lastOutcomeAt = performance.now();
  // waiting for the outcomes the worker said it sent (see received())
  #waiter: { count: number; done: () => void } | undefined;

  constructor(calls: PendingCall[], limit: number, sizer: Depth, pool: CallOwner) {
    this.calls = calls;
    this.#limit = limit;
    this.#sizer = sizer;
    this.#pool = pool;
    for (const pending of calls) pending.batch = this;
  }

  once(_event: 'abort', listener: () => void): void {
    this.#abortTinypool = listener;
  }

  off(): void {
    this.#abortTinypool = undefined;
  }

  // A message from a child process: progress, or the crash report it sends before it dies
  fromChild(message: unknown): void {
    const fields = (typeof message === 'object' && message !== null ? message : {}) as Partial<WireProgress & CrashReport>;
    if (Array.isArray(fields.o)) this.receive(fields as WireProgress);
    else if (fields.polytaskCrash !== undefined) this.report = fields as CrashReport;
  }

  // Outcomes, and how far the worker got: the calls it started since its last message have
  // their onStart once the callers had their turn for the outcomes (onStart order = start order)
  receive(message: WireProgress): void {
    if (this.over) return;
    const { o: outcomes, s: started, a: waiting, u: busy } = message;
    if (outcomes.length > 0) {
      const now = performance.now();
      this.#sizer.observe((now - this.#lastOutcomeAt) / outcomes.length);
      this.#lastOutcomeAt = now;
    }
    for (const outcome of outcomes) {
      const pending = this.calls[outcome.i];
      if (pending === undefined || this.#answered[outcome.i] === true) continue;
      this.#answered[outcome.i] = true;
      this.outcomes++;
      pending.start();
      if (outcome.ok) pending.succeed(outcome.value);
      else pending.fail(deserializeError(outcome.error), false);
    }
    this.#waiting = waiting;
    this.#busy = busy;
    if (started > this.#started) {
      const from = this.#started;
      this.#started = started;
      queueMicrotask(() => {
        for (let i = from; i < started && !this.over; i++) this.calls[i]!.start();
      });
    }
    if (this.#waiter !== undefined && this.outcomes >= this.#waiter.count) this.#waiter.done();
    this.grow();
  }

  // Adds calls from the queue while every call of the batch has started and some, fewer than
  // the limit, wait on a promise on a thread mostly idle: the worker overlaps them. A batch of
  // calls that hold the thread, or compute between their awaits, takes none: such calls are
  // shared among the workers batch by batch.
  grow(): void {
    if (this.over || this.send === undefined || this.#waiting === 0 || this.#busy >= maxBusy || this.#started < this.calls.length) return;
    const room = Math.min(this.#limit - this.#waiting, maxCalls - this.calls.length);
    if (room <= 0) return;
    const more = this.#pool.take(room);
    if (more.length === 0) return;
    try {
      this.send(more.map((pending) => pending.wire));
    } catch {
      // (an argument that cannot be copied) each goes alone, and only the culprit fails
      this.#pool.requeue(more, true);
      return;
    }
    for (const pending of more) {
      pending.batch = this;
      this.calls.push(pending);
    }
  }

  // How the worker's messages reach the batch (and its calls added later reach the worker): a
  // child process's on tinypool's channel (progress, or its crash report); a thread's on a
  // MessagePort of the batch, sent along in `wire`
  transport(runtime: 'thread' | 'process', wire: WireBatch): { transferList: MessagePort[] } | { channel: object } {
    if (runtime === 'process') {
      return {
        channel: {
          postMessage: (message: unknown) => this.fromChild(message),
          onMessage: (send: (message: WireMore) => void) => (this.send = (more) => send({ m: more })),
        },
      };
    }
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (message: WireProgress) => this.receive(message));
    this.port = port1;
    this.send = (more) => port1.postMessage({ m: more } satisfies WireMore);
    wire.p = port2;
    return { transferList: [port2] };
  }

  // Resolves once `count` outcomes have arrived, or after `ms`. The outcomes travel on the
  // batch's own port, and the task's completion on tinypool's: the completion can be read
  // first, with the last outcomes still on their way.
  received(count: number, ms: number): Promise<void> {
    if (this.outcomes >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiter = { count, done };
    });
  }

  // Takes the outcomes the worker sent that have not been read yet
  drain(): void {
    if (this.port === undefined) return;
    for (let message = receiveMessageOnPort(this.port); message !== undefined; message = receiveMessageOnPort(this.port)) {
      this.receive(message.message as WireProgress);
    }
  }

  // The calls from index `from` to `to` not settled that have no outcome
  unfinished(from = 0, to = this.calls.length): PendingCall[] {
    const rest: PendingCall[] = [];
    for (let i = from; i < to && i < this.calls.length; i++) {
      const pending = this.calls[i]!;
      if (this.#answered[i] !== true && !pending.settled) rest.push(pending);
    }
    return rest;
  }

  // No more outcomes are read
  end(): void {
    if (this.over) return;
    this.over = true;
    this.port?.close();
    this.#waiter?.done();
    for (const pending of this.calls) if (pending.batch === this) pending.batch = undefined;
    this.#pool.ended(this);
  }

  // A call of the batch was cancelled or timed out: the worker is terminated, the calls of the
  // batch still to run go back to the queue (those that had finished in the worker, their
  // outcome not arrived yet, run again: at-least-once; so do calls that were waiting on a promise)
  stop(): void {
    if (this.over) return;
    this.drain();
    const rest = this.unfinished();
    this.end();
    this.#pool.requeue(rest);
    const abort = this.#abortTinypool;
    this.#abortTinypool = undefined;
    try { abort?.(); } catch {}
  }
}
