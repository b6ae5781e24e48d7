// One place of the pool: the child in it (replaced when it dies or is recycled), the calls in
// flight on it, how many it may hold, and the timer of its oldest call.
import { callLine, callsHead, linesHead, takesBlocks } from '../../protocol/messages.js';
import { Depth } from '../depth.js';
import type { Queue } from '../queue.js';
import { exitCodes, failure, takeLines, unanswered, type Call, type ItemResult, type LinesChunk } from './call.js';
import type { LinesMessage } from '../../protocol/messages.js';
import { InflightCalls } from './inflight.js';
import type { Worker } from './worker.js';

// calls in flight on a child at most (Depth's own ceiling is for the lines of `lines` blocks)
const maxCalls = 256;
// lines of `lines` blocks in flight on a child at most: Depth's 10 ms of work is about 6,600
// trivial lines, so at 1,024 the ceiling, not the measure, set the size of the blocks. At 2,048
// (1,000,000 trivial items, -p 2, 8 interleaved rounds) python3 took 2.16-2.34 s against
// 2.29-2.54, node the same; at 4,096 the Node children's peak RSS grew by 17-20 MB
const maxLines = 2048;

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
  // items in flight: one per call, a `lines` block's lines not answered yet
  items = 0;
  retiring = false;
  #timer: NodeJS.Timeout | undefined;
  #timedHead: Call | undefined;

  constructor(id: number, pipeline: number | 'auto') {
    this.id = id;
    this.depth = new Depth(pipeline, maxLines);
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
    this.items = 0;
    this.stopTimer();
    this.depth.reset();
  }

  // How many single calls it can usefully hold at once
  get callCapacity(): number {
    return Math.min(this.depth.value, maxCalls);
  }

  get pid(): number | undefined {
    return this.worker?.alive === true ? this.worker.pid : undefined;
  }

  // Moves calls from the front of `pending` to this child, up to its depth (or what is left of
  // its `maxTasks` quota); returns what to send (text, and the bytes of `lines` blocks), [] for
  // none. A busy child is refilled only once it has room for a good batch: fewer, larger writes.
  fill(pending: Queue<Call>, maxTasks: number | undefined, now: number): (string | Buffer)[] {
    const worker = this.worker;
    if (worker?.ready === undefined || !worker.alive || this.isolating || this.retiring) return [];
    const inflight = this.inflight;
    const depth = this.depth.value;
    // single calls up to maxCalls; the lines of `lines` blocks up to the whole depth
    const callQuota = maxTasks === undefined ? Math.min(depth, maxCalls) : Math.min(depth, maxCalls, inflight.size + maxTasks - this.sent);
    const lines = pending.peek()?.lines;
    const quota = lines === undefined ? callQuota : depth;
    const room = quota - this.items;
    const waiting = lines === undefined ? pending.length : lines.count;
    if (room <= 0 || (this.items > 0 && room * 2 < quota && room < waiting)) return [];
    // a child that speaks version 2 gets `calls` blocks: a run of calls with consecutive ids and
    // one attempt number under one head, each item's JSON text on a line of its own
    const blocks = takesBlocks(worker.ready);
    const out: (string | Buffer)[] = [];
    let text = '';
    let first: Call | undefined;
    let count = 0;
    let items = '';
    const wasIdle = this.items === 0;
    while (pending.length > 0) {
      let call = pending.peek()!;
      if (call.lines !== undefined) {
        // a `lines` block (only submitted for children that take them), cut to the room left
        const left = depth - this.items;
        if (left <= 0) break;
        if (call.lines.count > left) call = takeLines(call, left);
        else pending.shift();
        inflight.add(call);
        this.items += call.lines!.count;
        call.sentAt = now;
        if (first !== undefined) text += callsHead(first.id, first.attempt, count) + items;
        first = undefined;
        out.push(text + linesHead(call.id, call.attempt, call.lines!.line, call.lines!.count), call.lines!.bytes);
        text = '';
        continue;
      }
      if (inflight.size >= callQuota || this.items >= callQuota) break;
      if (call.suspect && inflight.size > 0) break;
      pending.shift();
      inflight.add(call);
      this.items++;
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
    if (text !== '') out.push(text);
    if (out.length > 0 && wasIdle) this.depth.busySince(now);
    return out;
  }

  // The child is gone: the calls it had (the lines of a `lines` block not answered as calls of
  // one item each), and the results of those the pool killed it for
  emptied(): { calls: Call[]; killedFor: Map<Call, ItemResult> } {
    this.stopTimer();
    const calls = this.inflight.values().flatMap(unanswered);
    this.inflight.clear();
    this.items = 0;
    const killedFor = this.killedFor;
    this.killedFor = new Map();
    return { calls, killedFor };
  }

  // The next `head.count` lines of the `lines` block `head.id` are answered with the output
  // lines `out`: the block and the chunk for its owner (the block leaves once all its lines
  // are answered), or undefined when no block in flight has that many lines left
  linesAnswered(head: LinesMessage, out: Buffer[]): { call: Call; chunk: LinesChunk } | undefined {
    const call = this.inflight.get(head.id);
    const lines = call?.lines;
    if (lines === undefined || head.count > lines.count - lines.answered) return undefined;
    const bad = head.bad ?? [];
    const chunk = { count: head.count, out, outLines: head.out + (head.written ?? 0), failed: (head.failed ?? 0) + bad.length, returned: head.returned ?? 0, bad };
    lines.answered += head.count;
    this.items -= head.count;
    if (lines.answered === lines.count) this.inflight.take(head.id);
    return { call: call!, chunk };
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
