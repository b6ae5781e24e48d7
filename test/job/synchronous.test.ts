import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { SynchronousJob } from '../../src/job/synchronous.js';
import { AbortError, OptionError, RemoteError, TimeoutError } from '../../src/errors.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { childrenOf, fixture, isAlive, scratch, timed, waitUntil } from '../helpers.js';
import { runtimes } from '../runtimes.js';

const getPlusNum = (item: number, num: number) => item + num;
function divide(item: number): number {
  if (item === 3) throw new RangeError('division by zero');
  return item;
}
const modes = ['runMultiProcessed', 'runSingleProcessed'] as const;

const spychronous = suite('spychronous cases, in both modes');
for (const mode of modes) {
  spychronous(`${mode}: get_plus_num over [1, 2, 3] with args [2]`, timed(20_000, async () => {
    const job = new SynchronousJob({ func: getPlusNum, items: [1, 2, 3], args: [2] });
    assert.equal(await job[mode](), [3, 4, 5]);
  }));

  spychronous(`${mode}: the results are typed from func (checked when the tests compile)`, timed(20_000, async () => {
    const numbers: (number | undefined)[] = await new SynchronousJob({ func: (n: number) => n + 1, items: [1] })[mode]();
    const strings: (string | undefined)[] = await new SynchronousJob({ func: async (n: number) => `#${n}`, items: [1] })[mode]();
    assert.equal([numbers, strings], [[2], ['#1']]);
  }));

  spychronous(`${mode}: an error rejects without suppression`, timed(20_000, async () => {
    const job = new SynchronousJob({ func: divide, items: [1, 2, 3] });
    try {
      await job[mode]();
      assert.unreachable();
    } catch (error) {
      assert.is((error as Error).name, 'RangeError');
      assert.is((error as Error).message, 'division by zero');
    }
  }));

  spychronous(`${mode}: with suppression the slot holds undefined, logged once and recorded`, timed(20_000, async () => {
    const logged: string[] = [];
    const job = new SynchronousJob({ func: divide, items: [1, 2, 3], suppressWorkerExceptions: true, logger: (m) => logged.push(m) });
    assert.equal(await job[mode](), [1, 2, undefined]);
    assert.is(logged.length, 1);
    assert.match(logged[0]!, 'division by zero');
    assert.is(job.errors.length, 1);
    assert.is(job.errors[0]!.index, 2);
    assert.is(job.errors[0]!.item, 3);
    assert.is(job.errors[0]!.error.name, 'RangeError');
  }));
}
spychronous('logger: an object with error() (console, pino) gets each suppressed failure, called as its method', timed(20_000, async () => {
  const pinoLike = { lines: [] as string[], error(message: string) { this.lines.push(message); } };
  const job = new SynchronousJob({ func: divide, items: [1, 2, 3], suppressWorkerExceptions: true, logger: pinoLike });
  assert.equal(await job.runMultiProcessed(), [1, 2, undefined]);
  assert.is(pinoLike.lines.length, 1);
  assert.match(pinoLike.lines[0]!, 'item 2 (3) failed: RangeError: division by zero');
}));

spychronous('logger: anything else is an OptionError naming `logger` and echoing the value', () => {
  for (const [logger, shown] of [[{ warn() {} }, '{ warn: [Function: warn] }'], ['stderr', "'stderr'"], [null, 'null']] as const) {
    assert.throws(() => new SynchronousJob({ func: divide, items: [1], logger: logger as never }),
      (e: Error) => e instanceof OptionError && e.message.includes('`logger` option') && e.message.includes(`got \`${shown}\``), String(shown));
  }
});
spychronous.run();

const multi = suite('runMultiProcessed');

multi('a timeout fails only the stuck item; the others finish', timed(30_000, async () => {
  const job = new SynchronousJob({
    func: { module: new URL(`file://${fixture('js/jobs.mjs')}`), name: 'sleepy' },
    items: [10, 60_000, 20, 60_000, 30],
    processes: 2,
    // generous: a call's clock starts when it gets a worker, which may still be booting
    timeout: 3000,
    suppressWorkerExceptions: true,
    logger: () => {},
  });
  assert.equal(await job.runMultiProcessed(), [10, undefined, 20, undefined, 30]);
  assert.equal(job.errors.map((e) => e.index), [1, 3]);
  assert.ok(job.errors.every((e) => e.error instanceof TimeoutError));
}));

multi('ordered: false gives completion order', timed(20_000, async () => {
  const job = new SynchronousJob({ func: { module: new URL(`file://${fixture('js/jobs.mjs')}`), name: 'sleepy' }, items: [3000, 10], processes: 2, ordered: false });
  assert.equal(await job.runMultiProcessed(), [10, 3000]);
}));

multi('an async iterable of items', timed(20_000, async () => {
  async function* items() {
    for (let i = 0; i < 10; i++) yield i;
  }
  const job = new SynchronousJob({ func: (x: number) => x * x, items: items(), processes: 3 });
  assert.equal(await job.runMultiProcessed(), [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
}));

multi('nested jobs: a job whose func runs a job', timed(30_000, async () => {
  const job = new SynchronousJob({ func: { module: new URL(`file://${fixture('js/jobs.mjs')}`), name: 'nested' }, items: [1, 5], processes: 2 });
  assert.equal(await job.runMultiProcessed(), [[10, 20], [50, 60]]);
}));

multi('a signal stops every worker and rejects with an AbortError', timed(20_000, async () => {
  const controller = new AbortController();
  const job = new SynchronousJob({ func: { module: new URL(`file://${fixture('js/jobs.mjs')}`), name: 'sleepy' }, items: [60_000, 60_000], processes: 2, signal: controller.signal });
  setTimeout(() => controller.abort('enough'), 200);
  try {
    await job.runMultiProcessed();
    assert.unreachable();
  } catch (error) {
    assert.instance(error, AbortError);
    assert.is((error as Error).cause, 'enough', "the cause is the signal's reason");
  }
}));

multi('Ctrl-C: one SIGINT ends every worker, rejects with AbortError, exits 130', timed(30_000, async () => {
  // its own process group, which gets the SIGINT as a terminal's Ctrl-C would send it
  const child = spawn(process.execPath, [fixture('js/sigint-job.mjs')], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  child.stdout.on('data', (c) => (stdout += c));
  const childrenOf = () => spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  // wait for the children to exist before signalling (spychronous's own test races here)
  await waitUntil(() => childrenOf().length >= 2, 15_000, 'two worker processes');
  const kids = childrenOf();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  process.kill(-child.pid!, 'SIGINT');
  assert.is(await exited, 130);
  assert.match(stdout, 'rejected with AbortError');
  await waitUntil(() => kids.every((pid) => !isAlive(pid)), 1000, 'the workers to be gone');
}));

// Runs test/fixtures/js/plain-script-job.mjs in its own process group and sends it `signal`
// once it runs (to the whole group, as a terminal's Ctrl-C does, or to it alone, as `kill` does)
async function stopPlainScript(runtime: 'thread' | 'process', signal: NodeJS.Signals, toGroup: boolean, mode = 'finally') {
  const child = spawn(process.execPath, [fixture('js/plain-script-job.mjs'), runtime, mode], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  try {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitUntil(() => stdout.includes('started'), 15_000, 'the job to start');
    if (runtime === 'process') await waitUntil(() => childrenOf(child.pid!).length >= 2, 15_000, 'two worker processes');
    const kids = childrenOf(child.pid!);
    process.kill(toGroup ? -child.pid! : child.pid!, signal);
    const code = await exited;
    await waitUntil(() => kids.every((pid) => !isAlive(pid)), 1000, 'the workers to be gone');
    return { code, stdout, stderr };
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  }
}

for (const runtime of ['process', 'thread'] as const) {
  multi(`a plain script, try/finally and no catch (${runtime}): one Ctrl-C runs the finally, prints one line, exits 130`, timed(30_000, async () => {
    const { code, stdout, stderr } = await stopPlainScript(runtime, 'SIGINT', true);
    assert.is(code, 130, stderr);
    assert.match(stdout, 'cleanup\n');
    assert.is(stderr, 'AbortError: interrupted by Ctrl-C (SIGINT)\n');
  }));
}

multi('a plain script, try/finally and no catch: SIGTERM runs the finally, prints one line, exits 143', timed(30_000, async () => {
  const { code, stdout, stderr } = await stopPlainScript('process', 'SIGTERM', false);
  assert.is(code, 143, stderr);
  assert.match(stdout, 'cleanup\n');
  assert.is(stderr, 'AbortError: terminated by SIGTERM\n');
}));

multi('after a Ctrl-C, an uncaught error of the program itself is reported by Node as usual', timed(30_000, async () => {
  const { code, stdout, stderr } = await stopPlainScript('thread', 'SIGINT', true, 'other');
  assert.is(code, 1);
  assert.match(stdout, 'caught AbortError\n');
  assert.match(stderr, 'TypeError: an error of the program\n    at ');
}));

multi.run();

const single = suite('runSingleProcessed');

single('throws the original error, with its original stack frame', timed(20_000, async () => {
  let original: Error | undefined;
  function thrower(item: number): number {
    if (item === 2) {
      original = new TypeError('original');
      throw original;
    }
    return item;
  }
  const job = new SynchronousJob({ func: thrower, items: [1, 2, 3] });
  try {
    await job.runSingleProcessed();
    assert.unreachable();
  } catch (error) {
    assert.is(error, original);
    assert.match((error as Error).stack ?? '', 'thrower');
  }
}));

single('runs in this process, in input order', timed(20_000, async () => {
  const seen: number[] = [];
  const job = new SynchronousJob({ func: (x: number) => { seen.push(x); return process.pid; }, items: [3, 1, 2] });
  assert.equal(await job.runSingleProcessed(), [process.pid, process.pid, process.pid]);
  assert.equal(seen, [3, 1, 2]);
}));

if (runtimes.some((r) => r.name === 'python3' && r.missing === undefined)) {
  single('a Python handler can stop in pdb: the child shares the terminal', timed(30_000, async () => {
    const r = spawnSync(process.execPath, [fixture('js/debug-job.mjs')], { input: 'p doubled + 100\nc\n', encoding: 'utf8', timeout: 20_000 });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, '(Pdb)');
    assert.match(r.stdout, '142');
    assert.match(r.stdout, 'results [42]');
  }));
}

single.run();

const cross = suite('a cross-language job');
for (const runtime of runtimes.filter((r) => r.missing === undefined)) {
  for (const mode of modes) {
    cross(`${runtime.name}, ${mode}: values from the handler; an exception is a RemoteError`, timed(30_000, async () => {
      const spec = { exec_type: runtime.name, exec_info: { code: { type: 'path' as const, data: runtime.file }, handler: 'double' } };
      assert.equal(await new SynchronousJob({ func: spec, items: [1, 2, 3], processes: 2 })[mode](), [2, 4, 6]);
      const failing = { exec_type: runtime.name, exec_info: { code: { type: 'path' as const, data: runtime.file }, handler: 'fails' } };
      const job = new SynchronousJob({ func: failing, items: [1], suppressWorkerExceptions: true, logger: () => {} });
      assert.equal(await job[mode](), [undefined]);
      assert.instance(job.errors[0]!.error, RemoteError);
    }));
  }
}
const argsCode: Record<string, string> = {
  node: 'export function main(event, context) { return [event, ...context.args, Object.isFrozen(context.args)]; }\n',
  python: 'def main(event, context):\n    return [event] + list(context.args) + [context["args"] == context.args]\n',
};
for (const runtime of runtimes.filter((r) => r.missing === undefined)) {
  for (const mode of modes) {
    cross(`${runtime.name}, ${mode}: args reach the handler as context.args`, timed(30_000, async () => {
      const spec = { exec_type: runtime.name, exec_info: { code: runtime.name === 'node' ? argsCode.node! : argsCode.python! } };
      const job = new SynchronousJob({ func: spec, items: [1, 2], args: [10, { k: 'v' }], processes: 2 });
      assert.equal(await job[mode](), [[1, 10, { k: 'v' }, true], [2, 10, { k: 'v' }, true]]);
      // without args, context.args is empty
      assert.equal(await new SynchronousJob({ func: spec, items: [1], processes: 1 })[mode](), [[1, true]]);
    }));
  }
}

for (const runtime of runtimes.filter((r) => r.missing === undefined)) {
  cross(`${runtime.name}: what the handler prints reaches this process's stdout and stderr as each item ends`, timed(30_000, async () => {
    const gate = path.join(scratch('print-job').dir, 'go');
    const child = spawn(process.execPath, [fixture('js/print-job.mjs'), runtime.name, gate], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // item 2 waits for the gate: "out 1" must show while the job still runs
      await waitUntil(() => stdout.includes('out 1\n'), 20_000, 'the output of item 1');
      assert.not.match(stdout, 'results');
      writeFileSync(gate, '');
      assert.is(await exited, 0, stderr);
      for (const line of ['out 1\n', 'out 2\n', 'out 3\n', 'results [1,2,null]\n']) assert.match(stdout, line);
      assert.match(stdout, /logged: polytask: item 2 \(\{"n":3\}\) failed: \w+: three/);
      // the failed item's traceback is in its error, not printed again
      assert.equal(stderr.split('\n').filter(Boolean).sort(), ['err 1', 'err 2', 'err 3']);
    } finally {
      child.kill('SIGKILL');
    }
  }));
}

cross('args for a job spec must be JSON values; args must be an array', () => {
  const spec = { exec_type: 'node' as const, exec_info: { code: argsCode.node! } };
  for (const [args, text] of [[[() => 1], 'function is not a JSON value'], [[1, [NaN]], 'NaN is not a JSON value'], [[10n], 'bigint is not a JSON value']] as const) {
    assert.throws(() => new SynchronousJob({ func: spec, items: [1], args: args as never }), (e: Error) => e instanceof OptionError && e.message.includes('`args` option') && e.message.includes(text), text);
  }
  assert.throws(() => new SynchronousJob({ func: spec, items: [1], args: 5 as never }), (e: Error) => e instanceof OptionError && e.message.includes('got `5` (number)'));
});
cross.run();
