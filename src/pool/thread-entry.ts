// The worker side of ThreadPool, loaded by tinypool in each worker thread or child process.
// A call is either a function's source text (compiled once per worker, cached by source) or a
// module export (the module imported once per worker, so its state lives as long as the
// worker). The outcome travels back as a value, { ok, value } or { ok, error }, with the
// error flattened by serialize-error: tinypool would drop its custom properties.
//
// A call that ends its worker (process.exit, an uncaught exception, running out of memory)
// must fail the call, never hang it: see installExitHooks().
import type { MessagePort } from 'node:worker_threads';
import { serializeError, type ErrorObject } from 'serialize-error';

// One call as it crosses to the worker: `s` the function's source, or `u` + `n` the module and
// export; `a` the arguments
export interface WireCall {
  s?: string;
  u?: string;
  n?: string;
  a: unknown[];
}

// Several calls handed to one worker thread as one tinypool task (thread-pool.ts): run one after
// the other, in order; their outcomes go back on `p`, in order, as arrays of outcomes (see runBatch)
export interface WireBatch {
  b: WireCall[];
  p: MessagePort;
}

export type WireOutcome = { ok: true; value: unknown } | { ok: false; error: ErrorObject };

// What a child process sends through tinypool's channel just before it exits
export interface CrashReport {
  polytaskCrash: ErrorObject;
}

// Set on the error that ends a worker thread after the call ran process.exit(code) (thread-pool.ts reads it)
const exitCodeField = 'polytaskExitCode';

type TaskFunction = (...args: unknown[]) => unknown;

const maxCachedSources = 1000;
const functions = new Map<string, TaskFunction>();
const modules = new Map<string, Promise<Record<string, unknown>>>();
// the worker is ending (process.exit, an uncaught exception): the call sends no outcome any more
let dying = false;

// Runs one call, or a batch of calls; the handler tinypool calls (`name: 'runCall'`)
export function runCall(call: WireCall | WireBatch): Promise<WireOutcome> | Promise<number> {
  return 'b' in call ? runBatch(call) : runOne(call);
}

// ms after which finished outcomes are sent at once rather than with the others of the turn
const flushAfterMs = 1;

// Runs the calls of a batch one at a time, in order, and sends their outcomes on the batch's
// port as they finish: at once when a call took a while, else together once the worker's turn
// ends (a setImmediate), so that fast calls cost one message for many. Resolves with the number
// of outcomes sent, all of them: the parent drains the port when the task settles, and waits
// for any still on their way.
async function runBatch(batch: WireBatch): Promise<number> {
  const { b: calls, p: port } = batch;
  let unsent: WireOutcome[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (unsent.length === 0 || dying) return;
    port.postMessage(unsent);
    unsent = [];
  };
  let last = performance.now();
  for (const call of calls) {
    unsent.push(await runOne(call));
    if (dying) return never();
    const now = performance.now();
    if (now - last > flushAfterMs) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
    last = now;
  }
  flush();
  return calls.length;
}

async function runOne(call: WireCall): Promise<WireOutcome> {
  try {
    const fn = call.s !== undefined ? compiled(call.s) : await exported(call.u!, call.n!);
    const value = await fn(...call.a);
    if (dying) return never();
    checkSendable(value);
    return { ok: true, value };
  } catch (error) {
    if (dying) return never();
    return { ok: false, error: serializeError(call.s === undefined ? error : explain(error, call.s)) };
  }
}

// The function compiled from its source text, once per worker
function compiled(source: string): TaskFunction {
  let fn = functions.get(source);
  if (fn !== undefined) return fn;
  let value: unknown;
  try {
    // indirect eval: global scope, nothing of this module is visible to the task
    value = (0, eval)(`(${source}\n)`);
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
async function exported(url: string, name: string): Promise<TaskFunction> {
  let loading = modules.get(url);
  if (loading === undefined) {
    loading = import(url) as Promise<Record<string, unknown>>;
    modules.set(url, loading);
    loading.catch(() => modules.delete(url));
  }
  const module = await loading;
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
    structuredClone(value);
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
  const state = process.__tinypool_state__ as { isWorkerThread?: boolean; isChildProcess?: boolean } | undefined;
  if (state?.isWorkerThread === true) {
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
  } else if (state?.isChildProcess === true) {
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
