// The executor of this process: runs JavaScript calls here, one at a time, in order. It is
// runSingleProcessed()'s runtime (and task()'s with runtime 'inline'): breakpoints and
// `debugger` work, and an exception propagates with its original stack. Nothing can stop a
// function that runs in this thread: a cancel or a timeout of a running call rejects it at
// once, but the next call starts only when the function has returned.
import { pathToFileURL } from 'node:url';
import { OptionError, PoolClosedError, TimeoutError } from '../errors.js';
import { abortedAlready, cancelReason, onCancel } from './cancel.js';
import { runOn, type CloseOptions, type Executor, type Receiver, type RunOptions } from './executor.js';
import type { JsCall } from './thread/wire.js';
import { evaluateSource } from './thread/helpers.js';
import { isMoved, unwrapArgs } from './thread/move.js';

type Fn = (...args: unknown[]) => unknown;

/** A JavaScript call to run here: as for the thread pool, and the function itself when known */
export interface InlineCall extends JsCall {
  fn?: Fn | undefined;
}

export class InlineExecutor implements Executor<InlineCall> {
  readonly capacity = 1;
  // the calls run one after another: each waits for the one before
  #last: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #running = new Set<() => void>();
  // functions loaded, by source text or module#export
  readonly #loaded = new Map<string, Promise<Fn>>();

  start(): Promise<void> {
    return this.#closed ? Promise.reject(new PoolClosedError()) : Promise.resolve();
  }

  run(call: InlineCall, options?: RunOptions): Promise<unknown> {
    return runOn(this, call, options);
  }

  submit(call: InlineCall, receiver: Receiver<unknown>): void {
    if (this.#closed) return receiver.reject(new PoolClosedError());
    if (abortedAlready(receiver)) return receiver.reject(cancelReason(receiver, () => new PoolClosedError()));
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (ok: boolean, value: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      this.#running.delete(closeIt);
      if (ok) receiver.resolve(value);
      else receiver.reject(value);
    };
    const closeIt = () => settle(false, new PoolClosedError());
    this.#running.add(closeIt);
    const unsubscribe = onCancel(receiver, () => settle(false, cancelReason(receiver, () => new PoolClosedError())));
    this.#last = this.#last.then(async () => {
      if (settled) return;
      receiver.onStart?.();
      const { timeout } = receiver;
      if (timeout !== undefined) timer = setTimeout(() => settle(false, new TimeoutError(timeout)), timeout);
      try {
        const fn = call.fn ?? (await this.load(call));
        // move() markers stand for their values here: nothing crosses a thread
        const value = await fn(...((unwrapArgs(call.args, false) as { args: unknown[] } | undefined)?.args ?? call.args));
        settle(true, isMoved(value) ? value.value : value);
      } catch (error) {
        settle(false, error);
      }
    });
  }

  /** The function of a call given as source text or as a module export (rejects when there is none) */
  load(call: JsCall): Promise<Fn> {
    const { target } = call;
    const key = target.kind === 'source' ? target.source : `${target.url}#${target.name}`;
    let loading = this.#loaded.get(key);
    if (loading === undefined) {
      loading = target.kind === 'source' ? Promise.resolve(compile(target.source)) : exported(target.url, target.name);
      this.#loaded.set(key, loading);
    }
    return loading;
  }

  /** Refuses new calls and rejects those not answered; a function already running is not stopped */
  close(_options?: CloseOptions): Promise<void> {
    this.#closed = true;
    for (const closeIt of [...this.#running]) closeIt();
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

// A function from its source text (what a worker does with an inline function)
function compile(source: string): Fn {
  return evaluateSource(source) as Fn;
}

async function exported(module: string, name: string): Promise<Fn> {
  const url = module.startsWith('/') ? pathToFileURL(module).href : module;
  const mod = (await import(url)) as Record<string, unknown> & { default?: Record<string, unknown> };
  const fn = mod[name] ?? mod.default?.[name];
  if (typeof fn !== 'function') throw new OptionError(`${url} has no exported function \`${name}\``);
  return fn as Fn;
}
