// The cross-language pool: N long-lived children running a job spec's handler (engine.ts), as
// an Executor of items (pool/items.ts).
import { PoolClosedError } from '../../errors.js';
import { takesBlocks, takesLines, type ReadyMessage } from '../../protocol/messages.js';
import { closeOptionKeys, knownOptions } from '../../options.js';
import type { ResolvedSpec } from '../../spec/load.js';
import { abortedAlready, cancelReason, onCancel } from '../cancel.js';
import { runOn, type CloseOptions, type Receiver, type RunOptions } from '../executor.js';
import { jsonOf, resultOf, type ItemExecutor, type RawOptions } from '../items.js';
import { cancelled, newCall, newLinesCall, settle, type Call, type ItemResult, type LinesOwner, type RawResultCallback, type ResultCallback } from './call.js';
import { PoolEngine } from './engine.js';
import { toError } from './errors.js';
import { poolSettings, type PoolOptions } from './options.js';
import type { PoolStats } from './stats.js';

export type { ItemResult, RawResult, RawResultCallback, ResultCallback } from './call.js';
export type { PoolStats, WorkerStats } from './stats.js';
export { poolOptionKeys, type PoolOptions } from './options.js';

/**
 * N long-lived children running a job spec's handler, one item per call (an Executor): an item
 * resolves with its result `{exit, value, stdout, stderr, attempts}`; a failed item rejects with
 * a RemoteError, TimeoutError or WorkerExitedError whose `result` is that result.
 */
export class ProcessPool implements ItemExecutor {
  readonly spec: ResolvedSpec;
  readonly processes: number;
  readonly #engine: PoolEngine;
  #nextId = 1;
  #closing: Promise<void> | undefined;

  constructor(spec: ResolvedSpec, options: PoolOptions = {}) {
    const settings = poolSettings(options);
    this.spec = spec;
    this.processes = settings.processes;
    this.#engine = new PoolEngine(spec, settings);
  }

  /** Items submitted and not yet answered */
  get size(): number {
    return this.#engine.size;
  }

  /** How many items the pool can usefully hold at once (children x pipeline depth) */
  get capacity(): number {
    return this.#capacity(false);
  }

  /**
   * Has the children write the output lines of `lines` blocks (submitLines) to `fd` themselves,
   * where a version 4 handler does (the answers then count them): `polytask run`'s results, when
   * they go to a regular file or /dev/null, where whole writes from several processes do not mix.
   * Before the children start.
   * @internal
   */
  writeLinesTo(fd: number): void {
    if (this.#engine.slots.some((slot) => slot.worker !== undefined)) throw new Error('writeLinesTo() must come before the children start');
    this.#engine.settings.linesOutput = fd;
  }

  /** Starts every child and waits until all are ready; rejects with a SetupError */
  start(): Promise<void> {
    return this.#engine.start();
  }

  /** Runs one item: resolves with its result, rejects with the item's error (`error.result`) */
  run(item: unknown, options?: RunOptions): Promise<ItemResult> {
    return runOn(this, item, options);
  }

  /** Runs one item and resolves with its result, a failure's too: never rejects for an item */
  result(item: unknown, options: RunOptions = {}): Promise<ItemResult> {
    return new Promise((resolve) => this.submit(item, { ...options, resolve, reject: (error) => resolve(resultOf(error)) }));
  }

  /** Submits one item; the receiver hears its result or its error (Executor.submit) */
  submit(item: unknown, receiver: Receiver<ItemResult>): void {
    if (abortedAlready(receiver)) {
      receiver.reject(cancelReason(receiver, () => new PoolClosedError()));
      return;
    }
    let unsubscribe: (() => void) | undefined;
    let id = 0;
    let cancelledFirst = false;
    const done = (result: ItemResult) => {
      unsubscribe?.();
      if (result.error === undefined) receiver.resolve(result);
      else if (receiver.signal?.aborted === true) receiver.reject(receiver.signal.reason);
      // answered by close(): the contract's PoolClosedError, with the result all the same
      else if (result.cancelled === true && this.#engine.closed) receiver.reject(Object.assign(new PoolClosedError(), { result }));
      else receiver.reject(toError(result, timeout));
    };
    const timeout = receiver.timeout ?? this.#engine.settings.timeout;
    const call = this.#call(item, done, receiver.onStart === undefined ? undefined : () => receiver.onStart!(), timeout);
    if (call === undefined) return;
    // onCancel calls the listener at once for a call cancelled already: it is then not queued
    unsubscribe = onCancel(receiver, () => (id === 0 ? (cancelledFirst = true) : this.#engine.cancel(id, 'the call was cancelled')));
    if (cancelledFirst) {
      unsubscribe?.();
      settle(call, cancelled('the call was cancelled'));
      return;
    }
    id = this.#engine.enqueue(call);
  }

  /**
   * Queues an item already encoded as JSON text, with the result as the child wrote it (see
   * RawResult), a failure too: the CLI passes input lines through and copies results out
   * unchanged
   */
  submitRaw(json: string, rawDone: RawResultCallback, options?: RawOptions): void {
    const id = this.#engine.enqueue(newCall(this.#nextId++, json, undefined, rawDone, options?.onStart, options?.timeout ?? this.#engine.settings.timeout));
    options?.onAbort?.(() => this.#engine.cancel(id, 'the call was cancelled'));
  }

  /**
   * Queues a block of `count` input lines (`bytes`, each line ending with '\n', valid UTF-8),
   * numbered from `line`, for children that write their output lines themselves (protocol
   * version 3, see takesLines): `polytask run`'s way to pass lines through untouched, and a
   * `polytask worker`'s for a job of trivial items (remote/worker-jobs.ts).
   * @internal
   */
  submitLines(bytes: Buffer, line: number, count: number, owner: LinesOwner): void {
    if (!(Number.isSafeInteger(count) && count > 0)) throw new RangeError(`a lines block holds at least one line, not ${count}`);
    const call = newLinesCall(this.#nextId, bytes, line, count, owner);
    // each line keeps an id of its own (a child names the item that exits by it)
    this.#nextId += count;
    this.#engine.enqueue(call);
  }

  /**
   * Whether every child takes `lines` blocks (protocol version 3: the bundled Node and Python
   * handlers). Known once started.
   * @internal
   */
  get takesLines(): boolean {
    return this.#readyMessages().every(takesLines);
  }

  /**
   * How many input lines the children can usefully hold at once in `lines` blocks
   * @internal
   */
  get linesCapacity(): number {
    return this.#capacity(true);
  }

  // The call for an item, or undefined when the item cannot be sent as JSON (then answered)
  #call(item: unknown, done: ResultCallback, onStart: (() => void) | undefined, timeout: number | undefined): Call | undefined {
    const json = jsonOf(item);
    if (typeof json === 'string') return newCall(this.#nextId++, json, done, undefined, onStart, timeout);
    done(json);
    return undefined;
  }

  /** Counts so far, item latency, and each slot's items, restarts, CPU time and peak memory */
  stats(): PoolStats {
    return this.#engine.stats();
  }

  /**
   * Ends every child (EOF, then SIGTERM, then SIGKILL after `graceMs`) and answers unfinished
   * items as cancelled (an item waiting to be retried gets the failure it had). A second call
   * waits for the first (with the first one's grace), so that no caller goes on while children
   * are still there.
   */
  close(options: CloseOptions = {}): Promise<void> {
    try {
      knownOptions('ProcessPool.close()', options, closeOptionKeys);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#closing ??= this.#engine.close(options);
    return this.#closing;
  }

  /**
   * Whether each item's JSON text reaches its child on a line of its own (protocol version 2,
   * which the bundled handlers speak), so that a text that is not JSON fails only its own item
   * (exit 65, a ParseError): submitRaw() may then be given text not checked first. Known once
   * started.
   */
  get decodesEachItem(): boolean {
    return this.#readyMessages().every(takesBlocks);
  }

  /** e.g. 'python 3.11.7, 2 children ready' once started */
  readyInfo(): string {
    const ready = this.#readyMessages().filter((message) => message !== undefined);
    const first = ready[0];
    return first === undefined ? 'no child ready' : `${first.language} ${first.version}, ${ready.length} ${ready.length === 1 ? 'child' : 'children'} ready`;
  }

  /** Process ids of the running children */
  pids(): number[] {
    return this.#engine.slots.flatMap((slot) => (slot.pid === undefined ? [] : [slot.pid]));
  }

  // children x pipeline depth: in single calls, or in lines of `lines` blocks (more of them)
  #capacity(lines: boolean): number {
    let total = 0;
    for (const slot of this.#engine.slots) total += lines ? slot.depth.value : slot.callCapacity;
    return Math.max(total, this.processes);
  }

  // The `ready` message of each place's child, undefined for a place without a ready child
  #readyMessages(): (ReadyMessage | undefined)[] {
    return this.#engine.slots.map((slot) => slot.worker?.ready);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
