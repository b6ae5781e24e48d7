// Every options object of the public API refuses a key it does not know, naming it and the
// close match when there is one (a typo, or an option of the tool it replaces)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough } from 'node:stream';
import {
  Instance, JobRunner, loadSpec, map, OptionError, PipeChannel, ProcessPool, resolveSpec, Runner, SocketChannel, Subprocess, SynchronousJob, task,
} from '../src/index.js';
import { ThreadPool } from '../src/pool/thread/pool.js';
import { fixture, timed } from './helpers.js';

const spec = { exec_type: 'node' as const, exec_info: { code: { type: 'path' as const, data: fixture('node/handlers.mjs') }, handler: 'double' } };
const resolved = resolveSpec(spec);
const bad = <T>(options: T, extra: Record<string, unknown>): T => ({ ...options, ...extra });

interface Case {
  what: string;
  // makes the call with `extra` added to a valid options object
  call: (extra: Record<string, unknown>) => unknown;
  // an unknown key, and the option suggested for it (undefined: none is close)
  key: string;
  suggested: string | undefined;
}

const cases: Case[] = [
  { what: 'task()', call: (x) => task((n: number) => n, bad({ concurrency: 1 }, x)), key: 'concurency', suggested: 'concurrency' },
  { what: 'task()', call: (x) => task(spec, bad({ processes: 1 }, x)), key: 'max_memory_mb', suggested: 'maxMemoryMb' },
  { what: 'map()', call: (x) => map((n: number) => n, [1], bad({ ordered: true }, x)), key: 'orderd', suggested: 'ordered' },
  { what: 'SynchronousJob', call: (x) => new SynchronousJob(bad({ func: (n: number) => n, items: [1] }, x)), key: 'suppress_worker_exceptions', suggested: 'suppressWorkerExceptions' },
  { what: 'SynchronousJob', call: (x) => new SynchronousJob(bad({ func: (n: number) => n, items: [1] }, x)), key: 'noDaemon', suggested: undefined },
  { what: 'JobRunner', call: (x) => new JobRunner(spec, [1], bad({ ordered: true }, x)), key: 'keep_order', suggested: undefined },
  { what: 'JobRunner', call: (x) => new JobRunner(spec, [1], bad({ processes: 1 }, x)), key: 'retry_on', suggested: 'retryOn' },
  { what: 'ProcessPool', call: (x) => new ProcessPool(resolved, bad({ processes: 1 }, x)), key: 'n_processes', suggested: 'processes' },
  { what: 'ProcessPool', call: (x) => new ProcessPool(resolved, bad({}, x)), key: 'setupTimout', suggested: 'setupTimeout' },
  { what: 'ProcessPool.close()', call: (x) => closeTwice(new ProcessPool(resolved, { processes: 1 }), bad({}, x)), key: 'grace', suggested: undefined },
  { what: 'ThreadPool', call: (x) => new ThreadPool(bad({ concurrency: 1 }, x)), key: 'concurrentTaskPerWorker', suggested: 'concurrentTasksPerWorker' },
  { what: 'Subprocess', call: (x) => new Subprocess(['true'], bad({ collectOutput: true }, x)), key: 'stdout_callback', suggested: undefined },
  { what: 'Runner', call: (x) => new Runner(bad({}, x)), key: 'extra_paths', suggested: 'extraPaths' },
  { what: 'Runner.add()', call: (x) => new Runner().add('app', 'cat', bad({ detached: true }, x)), key: 'setpgrp', suggested: undefined },
  { what: 'Runner.updateConfig()', call: (x) => new Runner().updateConfig({ app: bad({ command: 'cat' }, x) }), key: 'comand', suggested: 'command' },
  { what: 'Runner.start()', call: (x) => runnerWithApp().start('app', bad({ alias: 'a' }, x)), key: 'with_args', suggested: 'withArgs' },
  { what: 'Runner.ensureRunning()', call: (x) => runnerWithApp().ensureRunning('app', bad({}, x)), key: 'aliass', suggested: 'alias' },
  { what: 'Runner.terminate()', call: (x) => new Runner().terminate('app', bad({}, x)), key: 'grace_ms', suggested: 'graceMs' },
  { what: 'Runner.terminateAll()', call: (x) => new Runner().terminateAll(bad({}, x)), key: 'timeout', suggested: undefined },
  { what: 'Instance.python()', call: (x) => Instance.python('pass', bad({}, x)), key: 'noDaemon', suggested: undefined },
  { what: 'Instance.node()', call: (x) => Instance.node('', bad({}, x)), key: 'onStdout', suggested: undefined },
  { what: 'PipeChannel', call: (x) => new PipeChannel(bad({ readable: new PassThrough() }, x)), key: 'writeable', suggested: 'writable' },
  { what: 'a socket address', call: (x) => SocketChannel.connect(bad({ port: 1 }, x)), key: 'hostname', suggested: undefined },
  { what: 'loadSpec()', call: (x) => loadSpec(fixture('specs/node.json'), bad({}, x)), key: 'setup_hook', suggested: 'setupHook' },
  { what: 'resolveSpec()', call: (x) => resolveSpec(spec, bad({}, x)), key: 'basedir', suggested: 'baseDir' },
];

// close() with the options given, then a plain close() so that no pool is left open
async function closeTwice(pool: ProcessPool, options: { graceMs?: number }): Promise<void> {
  try {
    await pool.close(options);
  } finally {
    await pool.close();
  }
}

function runnerWithApp(): Runner {
  const runner = new Runner();
  runner.add('app', 'cat');
  return runner;
}

// The OptionError a call throws or rejects with
async function refusal(call: () => unknown): Promise<OptionError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof OptionError) return error;
    throw error;
  }
  throw new Error('accepted');
}

for (const c of cases) {
  test(`${c.what} refuses \`${c.key}\`${c.suggested === undefined ? '' : `, suggesting \`${c.suggested}\``}`, timed(10_000, async () => {
    const error = await refusal(() => c.call({ [c.key]: true }));
    assert.match(error.message, `Unknown option \`${c.key}\` for ${c.what}`);
    if (c.suggested === undefined) {
      assert.not.match(error.message, 'did you mean');
      assert.match(error.message, 'its options are: ');
    } else {
      assert.match(error.message, `did you mean \`${c.suggested}\`?`);
    }
  }));
}

test('the messages of docs/api.md, in full', timed(10_000, async () => {
  assert.is((await refusal(() => new Runner().add('app', 'cat', { setpgrp: true } as never))).message,
    'Unknown option `setpgrp` for Runner.add(); its options are: type, socket, cwd, env, detached, buffering, shell, socketTimeout, graceMs');
  assert.is((await refusal(() => runnerWithApp().start('app', { with_args: ['-v'] } as never))).message,
    'Unknown option `with_args` for Runner.start(); did you mean `withArgs`?');
}));

test('an option whose value is undefined is still refused when its name is unknown', () => {
  assert.throws(() => task((n: number) => n, { timout: undefined } as never), (e: Error) => e instanceof OptionError && e.message.includes('`timout`') && e.message.includes('`timeout`'));
});

test('options that are not an object are refused, echoing the value', () => {
  assert.throws(() => task((n: number) => n, 4 as never), (e: Error) => e instanceof OptionError && e.message === 'Expected the options of task() to be an object, got `4` (number)');
  assert.throws(() => new Subprocess(['true'], null as never), (e: Error) => e instanceof OptionError && e.message.includes('got `null`'));
});

test('bad values are refused by their schemas, naming the option and echoing the value', () => {
  const refused = (call: () => unknown, message: string) => assert.throws(call, (e: Error) => e instanceof OptionError && e.message === message, message);
  refused(() => map((n: number) => n, [1], { concurrency: 1.5 }), 'Expected the `concurrency` option to be a positive integer, got `1.5` (number)');
  refused(() => map((n: number) => n, [1], { concurrency: '2' as never }), 'Expected the `concurrency` option to be a positive integer, got `2` (string)');
  refused(() => new SynchronousJob({ func: (n: number) => n, items: [1], processes: Number.NaN }), 'Expected the `processes` option to be a positive integer, got `NaN` (number)');
  refused(() => new SynchronousJob({ func: 3 as never, items: [1] }), 'Expected the `func` option to be a function, a { module, name } reference or a job spec, got `3` (number)');
  refused(() => new SynchronousJob({ func: (n: number) => n, items: 'abc' as never }), 'Expected the `items` option to be an Iterable or AsyncIterable, got `abc` (string)');
  refused(() => new SynchronousJob({ func: (n: number) => n, items: [1], resultsLog: '' }), 'Expected the `resultsLog` option to be a file path, got `` (string)');
  refused(() => new JobRunner(spec, [1], { onProgress: 'log' as never }), 'Expected the `onProgress` option to be a function, got `log` (string)');
  refused(() => new JobRunner(spec, [1], { progressInterval: 0 }), 'Expected the `progressInterval` option to be a positive integer, got `0` (number)');
  refused(() => new JobRunner(spec, [1], { retries: -1 }), 'Expected the `retries` option to be a non-negative integer, got `-1` (number)');
  refused(() => new ProcessPool(resolveSpec(spec), { retryDelay: -5 }), 'Expected the `retryDelay` option to be a non-negative number of ms, got `-5` (number)');
  refused(() => new ProcessPool(resolveSpec(spec), { retryOn: ['crash', 'oops' as 'crash'] }), 'Expected the `retryOn` option to be an array of "crash", "timeout", "error", got `["crash","oops"]`');
  refused(() => task((n: number) => n, { retryOn: 'crash' as never }), 'Expected the `retryOn` option to be an array of "crash", "timeout", "error", got `crash` (string)');
  refused(() => new ProcessPool(resolveSpec(spec), { maxMemoryMb: 0 }), 'Expected the `maxMemoryMb` option to be a positive number, got `0` (number)');
  refused(() => new ProcessPool(resolveSpec(spec), { maxMemoryMb: Number.POSITIVE_INFINITY }), 'Expected the `maxMemoryMb` option to be a positive number, got `Infinity` (number)');
  refused(() => task((n: number) => n, { runtime: 'fiber' as never }), 'Expected the `runtime` option to be "thread", "process" or "inline", got `fiber` (string)');
  refused(() => new ThreadPool({ runtime: 'inline' as never }), 'Expected the `runtime` option to be "thread" or "process", got `inline` (string)');
  refused(() => task((n: number) => n, { maxMemoryMb: 64 }), 'The `maxMemoryMb` option is for job specs (a child is replaced above it); a JavaScript task\'s heap limit is `maxOldGenerationSizeMb`');
});

test('the known options still pass (one call per entry point with all its options)', timed(20_000, async () => {
  const controller = new AbortController();
  const t = task((n: number) => n + 1, { concurrency: 1, timeout: 5000, signal: controller.signal, retries: 0, runtime: 'thread', maxOldGenerationSizeMb: 256 });
  assert.is(await t(1), 2);
  await t.close();
  const results: number[] = [];
  for await (const r of map((n: number) => n * 2, [1, 2], { concurrency: 2, ordered: true, signal: controller.signal })) results.push(r);
  assert.equal(results, [2, 4]);
  const runner = new JobRunner(spec, [1, 2], { processes: 1, ordered: true, retries: 0, retryDelay: 10, retryOn: ['crash'], keepAlive: false });
  const values: unknown[] = [];
  for await (const r of runner.run()) values.push(r.value);
  assert.equal(values, [2, 4]);
}));

test.run();
