// The worker side of ThreadPool, loaded by tinypool in each worker thread or child process.
// A call is either a function's source text (compiled once per worker, cached by source) or a
// module export (the module imported once per worker, so its state lives as long as the
// worker). The outcome travels back as a value, { ok, value } or { ok, error }, with the
// error flattened by serialize-error: tinypool would drop its custom properties. Calls handed
// over together run as a batch (entry-batch.ts), where calls that wait on a promise overlap.
//
// A call that ends its worker (process.exit, an uncaught exception, running out of memory)
// must fail the call, never hang it: see installExitHooks().
import { serialize } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { serializeError, type ErrorObject } from 'serialize-error';
import { runBatch, type WireBatch, type WireCall, type WireOutcome } from './entry-batch.js';
import { kTransferable, kValue, markMovable } from 'tinypool';
import { evaluateSource } from './helpers.js';
import { isMoved, transferOf, withTransfer } from './move.js';

export type { WireBatch, WireCall, WireMore, WireOutcome, WireProgress } from './entry-batch.js';

// What a child process sends through tinypool's channel just before it exits
export interface CrashReport {
  polytaskCrash: ErrorObject;
}

// Set on the error that ends a worker thread after the call ran process.exit(code) (deaths.ts reads it)
const exitCodeField = 'polytaskExitCode';

type TaskFunction = (...args: unknown[]) => unknown;

const maxCachedSources = 1000;
const functions = new Map<string, TaskFunction>();
// modules being imported, and those imported (a call of a loaded module starts without waiting)
const modules = new Map<string, Promise<Record<string, unknown>>>();
const loaded = new Map<string, Record<string, unknown>>();
// the worker is ending (process.exit, an uncaught exception): the call sends no outcome any more
let dying = false;
// this module runs only in a tinypool worker: a worker thread, or else a child process
const isChildProcess = isMainThread;

const hooks = {
  prepare: (call: WireCall) => (call.u === undefined || loaded.has(call.u) ? undefined : load(call.u).catch(() => {})),
  start: startOne,
  dying: () => dying,
};

// Runs one call, or a batch of calls; the handler tinypool calls (`name: 'runCall'`)
export function runCall(call: WireCall | WireBatch): Promise<WireOutcome> | Promise<number> {
  return 'b' in call ? runBatch(call, hooks) : runOne(call);
}

async function runOne(call: WireCall): Promise<WireOutcome> {
  const outcome = await startOne(call);
  return dying ? never() : movable(outcome);
}

// Starts one call: its outcome at once when the function returns a plain value or throws,
// else a promise of it (the function returned a thenable, or its module is still loading)
function startOne(call: WireCall): WireOutcome | Promise<WireOutcome> {
  let value: unknown;
  try {
    const fn = call.s !== undefined ? compiled(call.s) : exported(call.u!, call.n!);
    value = typeof fn === 'function' ? fn(...call.a) : fn.then((f) => f(...call.a));
  } catch (error) {
    return failed(call, error);
  }
  const then = typeof value === 'object' || typeof value === 'function' ? (value as { then?: unknown } | null)?.then : undefined;
  if (typeof then !== 'function') return succeeded(call, value);
  return Promise.resolve(value).then((settled) => succeeded(call, settled), (error: unknown) => failed(call, error));
}

function succeeded(call: WireCall, value: unknown): WireOutcome {
  // a moved value goes back without a copy (a thread's: a child process sends a copy)
  if (isMoved(value)) return withTransfer({ ok: true, value: value.value }, isChildProcess ? [] : [value.transfer]);
  try {
    checkSendable(value);
  } catch (error) {
    return failed(call, error);
  }
  return { ok: true, value };
}

function failed(call: WireCall, error: unknown): WireOutcome {
  return { ok: false, error: serializeError(call.s === undefined ? error : explain(error, call.s)) };
}

// The function compiled from its source text, once per worker
function compiled(source: string): TaskFunction {
  let fn = functions.get(source);
  if (fn !== undefined) return fn;
  let value: unknown;
  try {
    value = evaluateSource(source);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(`the task function cannot be compiled from its source text (${message}); ` +
      'methods, bound and native functions have no usable source: pass an arrow or a function expression, or use a module task', { cause: error });
  }
  if (typeof value !== 'function') throw new TypeError(`the task source does not evaluate to a function but to ${typeof value}`);
  fn = value as TaskFunction;
  if (functions.size >= maxCachedSources) functions.delete(functions.keys().next().value!);
  functions.set(source, fn);
  return fn;
}

// The export `name` of the module at `url` (or of its default export), imported once per worker
function exported(url: string, name: string): TaskFunction | Promise<TaskFunction> {
  const module = loaded.get(url);
  return module === undefined ? load(url).then((m) => pick(m, url, name)) : pick(module, url, name);
}

// Imports a module once (a failed import is tried again by the next call)
function load(url: string): Promise<Record<string, unknown>> {
  let loading = modules.get(url);
  if (loading === undefined) {
    loading = (import(url) as Promise<Record<string, unknown>>).then((module) => {
      loaded.set(url, module);
      return module;
    });
    modules.set(url, loading);
    loading.catch(() => modules.delete(url));
  }
  return loading;
}

function pick(module: Record<string, unknown>, url: string, name: string): TaskFunction {
  let fn = module[name];
  const fallback = module.default;
  if (typeof fn !== 'function' && typeof fallback === 'object' && fallback !== null) fn = (fallback as Record<string, unknown>)[name];
  if (typeof fn === 'function') return fn as TaskFunction;
  const names = Object.keys(module).join(', ') || 'none';
  throw new TypeError(`module ${url} has no function export \`${name}\` (nor on its default export); its exports: ${names}`);
}

// Throws a clear error for a value that cannot be copied back: sending it would end the worker
function checkSendable(value: unknown): void {
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new TypeError(`the task returned a ${typeof value}, which cannot be sent back to the caller`);
  }
  if (typeof value !== 'object' || value === null) return;
  try {
    // a child process sends with Node's advanced serialization (v8), a thread clones
    if (isChildProcess) serialize(value);
    else structuredClone(value);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TypeError(`the task returned a value that cannot be sent back to the caller: ${message}`, { cause: error });
  }
}

// A ReferenceError for a name the source uses: the function used its closure, which stayed behind
function explain(error: unknown, source: string): unknown {
  if (!(error instanceof Error) || error.name !== 'ReferenceError') return error;
  const name = /^(\S+) is not defined$/.exec(error.message)?.[1];
  if (name === undefined || !new RegExp(`(^|[^\\w$.])${name.replace(/\$/g, '\\$')}($|[^\\w$])`).test(source)) return error;
  return new Error(`the task function refers to \`${name}\` from its enclosing scope, which is not available in the worker: ` +
    'the function is sent as source text, without its closure. Use a module task ({ module, name }) ' +
    `or pass \`${name}\` as an argument.`, { cause: error });
}

// A promise that never settles: the worker ends before the call could answer
function never(): Promise<never> {
  return new Promise<never>(() => {});
}

// In a worker thread a real process.exit() ends the thread without an 'error' event, which
// tinypool never notices (the call would hang). It becomes an uncaught error instead, which
// tinypool turns into a failed call and a replaced worker. In a child process the process
// really exits (tinypool sees that), after reporting an uncaught exception to the parent.
function installExitHooks(): void {
  if (!isChildProcess) {
    const exit = process.exit.bind(process);
    let ending: Error | undefined;
    process.exit = ((code?: number | string | null) => {
      // Node's own handler of an uncaught exception ends the thread with process.exit() after
      // setting _exiting (and posting the error to the parent): that exit must happen
      if ((process as { _exiting?: boolean })._exiting === true) return exit(code);
      if (ending === undefined) {
        dying = true;
        const exitCode = Number(code ?? process.exitCode ?? 0);
        const error = Object.assign(new Error(`process.exit(${exitCode}) was called`), { [exitCodeField]: exitCode });
        process.nextTick(() => {
          throw error;
        });
        ending = error;
      }
      throw ending;
    }) as typeof process.exit;
  } else {
    const exit = process.exit.bind(process);
    // Ctrl-C at a terminal reaches the whole process group: the parent ends its workers itself
    process.on('SIGINT', () => {});
    process.on('uncaughtException', (error) => {
      dying = true;
      const report: CrashReport = { polytaskCrash: serializeError(error) };
      setTimeout(() => exit(1), 1000);
      try {
        process.send!(report, () => exit(1));
      } catch {
        exit(1);
      }
    });
  }
}

installExitHooks();

// An outcome that moves buffers, as tinypool returns a task's movable value: transferred
function movable(outcome: WireOutcome): WireOutcome {
  const transfer = transferOf(outcome);
  if (transfer.length === 0) return outcome;
  const carrier = { [kTransferable]: transfer, [kValue]: outcome };
  markMovable(carrier);
  return carrier as unknown as WireOutcome;
}
