// The worker side of a batch (entry.ts runs it): the calls one worker was handed as one
// tinypool task, and the calls the parent adds to it while it runs.
//
// Calls start in order. A call whose function returns a plain value (or throws) holds the
// thread until it returns, as any JavaScript does; a call that returns a promise (a thenable)
// lets the next call start while it waits, up to `k` such calls waiting at once. Outcomes may
// so come back out of order: each carries its index in the batch (`i`). Every message also
// says how many calls have started (`s`, calls start in order) and how many are waiting on a
// promise (`a`), and how busy the thread was lately (`u`): the parent starts a call's timeout
// when it learns the call started, and adds calls to a batch whose calls have all started
// while fewer than `k` wait and the thread is mostly idle (thread-batch.ts): calls that
// compute between their awaits gain nothing from overlapping, and are shared among the
// workers batch by batch, like calls that return a plain value.
//
// Messages go at once when a call took more than a millisecond, had a timeout, or is about to
// start with a timeout (the parent must know it started); else together once the worker's
// turn ends (a setImmediate), so that fast calls cost one message for many.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { ErrorObject } from 'serialize-error';
import { transferOf } from './move.js';

// One call as it crosses to the worker: `s` the function's source, or `u` + `n` the module and
// export; `a` the arguments; `t` set when the call has a timeout
export interface WireCall {
  s?: string;
  u?: string;
  n?: string;
  a: unknown[];
  t?: 1;
}

export type WireOutcome = { ok: true; value: unknown } | { ok: false; error: ErrorObject };

// Calls handed to one worker as one tinypool task: `b` the calls, `k` how many may wait on a
// promise at once, `p` the port of the batch's messages (worker threads; a child process uses
// its IPC channel)
export interface WireBatch {
  b: WireCall[];
  k: number;
  p?: MessagePort;
}

// worker -> parent: outcomes with their index; calls started; calls waiting on a promise; the
// share of the time the worker's thread was busy lately (0 to 1; 1 until measured)
export interface WireProgress {
  o: (WireOutcome & { i: number })[];
  s: number;
  a: number;
  u: number;
}

// parent -> worker: more calls for the batch
export interface WireMore {
  m: WireCall[];
}

export interface BatchHooks {
  // a promise when the call's function is not loaded yet (a module still importing)
  prepare(call: WireCall): Promise<unknown> | undefined;
  // starts the call: its outcome, or a promise of it; never throws
  start(call: WireCall): WireOutcome | Promise<WireOutcome>;
  // the worker is ending: nothing more is sent
  dying(): boolean;
}

// ms after which finished outcomes are sent at once rather than with the others of the turn
const flushAfterMs = 1;
// ms of the shortest time over which the thread's busy share is measured
const measureMs = 10;

// Runs a batch; resolves with the number of calls it received, every one of which had its
// outcome sent (the parent drains the port when the task settles, and waits for any still on
// their way; calls it added that arrived too late run elsewhere)
export function runBatch(batch: WireBatch, hooks: BatchHooks): Promise<number> {
  return new Promise((resolve) => new BatchRun(batch, hooks, resolve).pump());
}

class BatchRun {
  readonly #calls: WireCall[];
  readonly #port: MessagePort | undefined;
  readonly #limit: number;
  readonly #hooks: BatchHooks;
  readonly #resolve: (received: number) => void;
  // calls started (always the first ones), waiting on a promise, done
  #next = 0;
  #waiting = 0;
  #done = 0;
  // a call's function is loading: no call starts meanwhile; the call whose loading ended (it
  // starts then, even if the loading failed: its outcome says why)
  #preparing = false;
  #prepared = -1;
  #unsent: (WireOutcome & { i: number })[] = [];
  // #next at the last message
  #reported = 0;
  #scheduled = false;
  // a finished call asks for a message at once
  #urgent = false;
  #ended = false;
  // how busy the thread is: since when it is measured, the last measure, a report to come
  #window = performance.eventLoopUtilization();
  #busy = 1;
  #reporting = false;
  #reportAfter = measureMs;

  constructor(batch: WireBatch, hooks: BatchHooks, resolve: (received: number) => void) {
    this.#calls = batch.b.slice();
    this.#port = batch.p;
    this.#limit = batch.k;
    this.#hooks = hooks;
    this.#resolve = resolve;
    if (this.#port !== undefined) this.#port.on('message', this.#more);
    else process.on('message', this.#more);
  }

  // Calls the parent added (a child process also gets tinypool's messages here: not ours)
  readonly #more = (message: Partial<WireMore> | null): void => {
    if (this.#ended || !Array.isArray(message?.m)) return;
    this.#calls.push(...message.m);
    this.pump();
  };

  // Starts the calls that may start, then sends or schedules what the parent must learn
  pump(): void {
    const calls = this.#calls;
    const hooks = this.#hooks;
    while (this.#next < calls.length && this.#waiting < this.#limit && !this.#preparing) {
      if (hooks.dying()) return;
      const call = calls[this.#next]!;
      const loading = this.#prepared === this.#next ? undefined : hooks.prepare(call);
      if (loading !== undefined) {
        this.#preparing = true;
        const index = this.#next;
        void loading.then(() => {
          this.#preparing = false;
          this.#prepared = index;
          this.pump();
        });
        break;
      }
      const index = this.#next++;
      this.#reportAfter = measureMs;
      if (this.#urgent || call.t === 1) this.#send();
      const startedAt = performance.now();
      const outcome = hooks.start(call);
      if (outcome instanceof Promise) {
        this.#waiting++;
        void outcome.then((settled) => {
          this.#waiting--;
          this.#finish(index, settled, startedAt, call);
          this.pump();
        });
      } else {
        this.#finish(index, outcome, startedAt, call);
      }
    }
    if (hooks.dying()) return;
    if (this.#done === calls.length && !this.#preparing) this.#end();
    else if (this.#urgent) this.#send();
    else if (!this.#scheduled && (this.#unsent.length > 0 || this.#next > this.#reported)) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  #finish(index: number, outcome: WireOutcome, startedAt: number, call: WireCall): void {
    if (this.#hooks.dying()) return;
    this.#done++;
    const indexed = outcome as WireOutcome & { i: number };
    indexed.i = index;
    this.#unsent.push(indexed);
    if (call.t === 1 || performance.now() - startedAt > flushAfterMs) this.#urgent = true;
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    this.#send();
  };

  #send(always = false): void {
    this.#urgent = false;
    if (this.#hooks.dying() || (!always && this.#unsent.length === 0 && this.#next === this.#reported)) return;
    const window = performance.eventLoopUtilization(this.#window);
    if (window.idle + window.active >= measureMs) {
      this.#busy = window.utilization;
      this.#window = performance.eventLoopUtilization();
    }
    if (!this.#reporting && this.#waiting > 0 && this.#waiting < this.#limit && this.#next === this.#calls.length) {
      // the parent adds calls only to a thread it knows is mostly idle: it hears how idle
      // while calls wait with room for more, less and less often (10 ms, 20 ms, ... 1 s)
      this.#reporting = true;
      setTimeout(() => {
        this.#reporting = false;
        this.#reportAfter = Math.min(this.#reportAfter * 2, 1000);
        if (!this.#ended) this.#send(true);
      }, this.#reportAfter);
    }
    const message: WireProgress = { o: this.#unsent, s: this.#next, a: this.#waiting, u: this.#busy };
    this.#unsent = [];
    this.#reported = this.#next;
    if (this.#port !== undefined) this.#port.postMessage(message, message.o.flatMap(transferOf));
    else process.send!(message);
  }

  // Every call received has its outcome: calls the parent added meanwhile run too, else the batch ends
  #end(): void {
    if (this.#ended) return;
    const port = this.#port;
    if (port !== undefined) {
      const added = receiveMessageOnPort(port)?.message as Partial<WireMore> | undefined;
      if (Array.isArray(added?.m) && added.m.length > 0) {
        this.#calls.push(...added.m);
        this.pump();
        return;
      }
    }
    this.#ended = true;
    if (port !== undefined) port.off('message', this.#more);
    else process.off('message', this.#more);
    this.#send();
    this.#resolve(this.#calls.length);
  }
}
