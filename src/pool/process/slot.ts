// One place of the pool: the child in it (replaced when it dies or is recycled), the calls in
// flight on it, how many it may hold, and the timer of its oldest call.
import { callLine, callsHead, takesBlocks } from '../../protocol/messages.js';
import { Depth } from '../depth.js';
import type { Queue } from '../queue.js';
import { exitCodes, failure, type Call, type ItemResult } from './call.js';
import { InflightCalls } from './inflight.js';
import type { Worker } from './worker.js';

export class Slot {
  readonly id: number;
  worker: Worker | undefined;
  readonly inflight = new InflightCalls();
  readonly depth: Depth;
  // the calls the pool killed this child for (timeouts, cancels), and the results they get
  killedFor = new Map<Call, ItemResult>();
  // a suspect call is in flight: nothing else goes to this child until it is answered
  isolating = false;
  // calls sent to the current child, and whether it is to be replaced once idle (recycling)
  sent = 0;
  retiring = false;
  #timer: NodeJS.Timeout | undefined;
  #timedHead: Call | undefined;

  constructor(id: number, pipeline: number | 'auto') {
    this.id = id;
    this.depth = new Depth(pipeline);
  }

  // A new child took the place
  occupy(worker: Worker): void {
    this.worker = worker;
    this.sent = 0;
    this.retiring = false;
  }

  // The child left (died, or recycled): the timer stops, the depth starts again
  vacate(): void {
    this.worker = undefined;
    this.stopTimer();
    this.depth.reset();
  }

  get pid(): number | undefined {
    return this.worker?.alive === true ? this.worker.pid : undefined;
  }

  // Moves calls from the front of `pending` to this child, up to its depth (or what is left of
  // its `maxTasks` quota); returns the lines to send, '' for none. A busy child is refilled only
  // once it has room for a good batch: fewer, larger writes.
  fill(pending: Queue<Call>, maxTasks: number | undefined, now: number): string {
    const worker = this.worker;
    if (worker?.ready === undefined || !worker.alive || this.isolating || this.retiring) return '';
    const inflight = this.inflight;
    const quota = maxTasks === undefined ? this.depth.value : Math.min(this.depth.value, inflight.size + maxTasks - this.sent);
    const room = quota - inflight.size;
    if (room <= 0 || (inflight.size > 0 && room * 2 < this.depth.value && room < pending.length)) return '';
    // a child that speaks version 2 gets `calls` blocks: a run of calls with consecutive ids and
    // one attempt number under one head, each item's JSON text on a line of its own
    const blocks = takesBlocks(worker.ready);
    let text = '';
    let first: Call | undefined;
    let count = 0;
    let items = '';
    const wasIdle = inflight.size === 0;
    while (inflight.size < quota && pending.length > 0) {
      const call = pending.peek()!;
      if (call.suspect && inflight.size > 0) break;
      pending.shift();
      inflight.add(call);
      this.sent++;
      call.sentAt = now;
      if (!blocks) {
        text += callLine(call.id, call.attempt, call.json);
      } else {
        if (first !== undefined && (call.id !== first.id + count || call.attempt !== first.attempt)) {
          text += callsHead(first.id, first.attempt, count) + items;
          first = undefined;
        }
        if (first === undefined) {
          first = call;
          count = 0;
          items = '';
        }
        count++;
        items += `${call.json}\n`;
      }
      call.onStart?.();
      if (call.suspect) {
        this.isolating = true;
        break;
      }
    }
    if (first !== undefined) text += callsHead(first.id, first.attempt, count) + items;
    if (text !== '' && wasIdle) this.depth.busySince(now);
    return text;
  }

  // Times the oldest call, if it has a timeout; the clock starts when it becomes the oldest. At
  // the timeout the call is marked and the child killed (the death answers it).
  armTimer(): void {
    const head = this.inflight.oldest();
    if (head === this.#timedHead) return;
    clearTimeout(this.#timer);
    this.#timedHead = head;
    const timeout = head?.timeout;
    this.#timer = head === undefined || timeout === undefined ? undefined : setTimeout(() => {
      if (this.inflight.oldest() !== head) return;
      const message = `item timed out after ${timeout} ms; its child was killed and replaced`;
      this.killFor(head, { ...failure(exitCodes.timeout, { name: 'TimeoutError', message }), timedOut: true });
    }, timeout);
  }

  stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timedHead = undefined;
  }

  // Kills the child for a call of it (a timeout, a cancel), which then gets `result`; false
  // when it is already being killed for that call
  killFor(call: Call, result: ItemResult): boolean {
    if (this.killedFor.has(call)) return false;
    this.killedFor.set(call, result);
    this.worker?.kill('SIGKILL');
    return true;
  }
}
