// What each bundled handler does with the user's code: loading, capture, async, errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ProcessPool, type PoolOptions } from '../../src/pool/process/pool.js';
import { resolveSpec } from '../../src/spec/load.js';
import type { JobSpec } from '../../src/spec/schema.js';
import { SetupError } from '../../src/errors.js';
import { fixture, repoRoot, timed, withEnv } from '../helpers.js';
import { availableRuntimes } from '../runtimes.js';

const pools: ProcessPool[] = [];
function pool(spec: JobSpec, options: PoolOptions = {}): ProcessPool {
  const p = new ProcessPool(resolveSpec(spec), { processes: 1, onWorkerOutput: () => {}, ...options });
  pools.push(p);
  return p;
}
async function closeAll(): Promise<void> {
  await Promise.all(pools.splice(0).map((p) => p.close()));
}
async function setupError(p: ProcessPool): Promise<SetupError> {
  try {
    await p.start();
  } catch (error) {
    assert.instance(error, SetupError);
    return error as SetupError;
  }
  throw new Error('expected start() to fail');
}
const available = new Set(availableRuntimes().map((r) => r.name));

const node = suite('node handler');
node.after.each(closeAll);

node('code given as an ESM string, and as a CommonJS string', timed(20_000, async () => {
  const esm = pool({ exec_type: 'node', exec_info: { code: 'export function main(e, c) { return e + 1; }' } });
  assert.is((await esm.result(1)).value, 2);
  const cjs = pool({ exec_type: 'node', exec_info: { code: 'module.exports.main = (e) => e * 10;' } });
  assert.is((await cjs.result(2)).value, 20);
}));

node('a CommonJS file', timed(20_000, async () => {
  const p = pool({ exec_type: 'node', exec_info: { code: { type: 'path', data: fixture('node/handlers.cjs') } } });
  assert.equal((await p.result(5)).value, { cjs: true, event: 5 });
}));

node('concurrent async items each capture only their own output', timed(20_000, async () => {
  const p = pool({ exec_type: 'node', exec_info: { code: { type: 'path', data: fixture('node/handlers.mjs') }, handler: 'interleaved' } }, { pipeline: 20 });
  const items = Array.from({ length: 20 }, (_, i) => i);
  const results = await Promise.all(items.map((i) => p.result(i)));
  results.forEach((r, i) => assert.is(r.stdout, `item ${i} step 0\nitem ${i} step 1\nitem ${i} step 2\n`));
}));

node('NaN, a circular object and a BigInt are not silently mangled', timed(20_000, async () => {
  const p = pool({ exec_type: 'node', exec_info: { code: 'export function main(e) { if (e === 0) return NaN; if (e === 1) { const o = {}; o.o = o; return o; } return 2n; }' } });
  for (const item of [0, 1, 2]) {
    const r = await p.result(item);
    assert.is(r.exit, 1);
    assert.is(r.error?.name, 'SerializationError');
    assert.not.ok('value' in r);
  }
}));

node('a syntax error, a missing handler and a failing setup hook fail setup with the child\'s error', timed(20_000, async () => {
  const syntax = await setupError(pool({ exec_type: 'node', exec_info: { code: { type: 'path', data: fixture('node/syntax_error.mjs') } } }));
  assert.match(syntax.message, 'SyntaxError');
  const missing = await setupError(pool({ exec_type: 'node', exec_info: { code: 'export const other = 1', handler: 'main' } }));
  assert.match(missing.message, 'handler function "main" is not exported');
  const hook = await setupError(pool({ exec_type: 'node', exec_info: { code: { type: 'path', data: fixture('node/setup_fails.mjs') }, setup_hook: 'setup' } }));
  assert.match(hook.message, 'setup exploded');
  assert.match(hook.stderr, 'setup_fails.mjs');
  const file = await setupError(pool({ exec_type: 'node', exec_info: { code: { type: 'path', data: fixture('node/nope.mjs') } } }));
  assert.match(file.message, 'nope.mjs');
}));

node.run();

for (const name of ['python3', 'python2'] as const) {
  if (!available.has(name)) continue;
  const py = suite(`python handler on ${name}`);
  py.after.each(closeAll);

  py('code given as a string, with a traceback that shows its lines', timed(20_000, async () => {
    const p = pool({ exec_type: name, exec_info: { code: 'def main(event, context):\n    return event["x"]\n' } });
    assert.is((await p.result({ x: 3 })).value, 3);
    const failed = await p.result({});
    assert.is(failed.error?.name, 'KeyError');
    assert.match(failed.stderr, 'return event["x"]');
  }));

  py('a value that is not JSON-serialisable gives a SerializationError', timed(20_000, async () => {
    const p = pool({ exec_type: name, exec_info: { code: { type: 'path', data: fixture('python/handlers.py') }, handler: 'not_serialisable' } });
    const r = await p.result(1);
    assert.is(r.exit, 1);
    assert.is(r.error?.name, 'SerializationError');
    assert.not.ok('value' in r);
    const nan = pool({ exec_type: name, exec_info: { code: 'def main(e, c):\n    return float("nan")\n' } });
    assert.is((await nan.result(1)).error?.name, 'SerializationError');
  }));

  py('a syntax error, a missing handler and a failing setup hook fail setup with the traceback', timed(20_000, async () => {
    const syntax = await setupError(pool({ exec_type: name, exec_info: { code: { type: 'path', data: fixture('python/syntax_error.py') } } }));
    assert.match(syntax.message, 'SyntaxError');
    const missing = await setupError(pool({ exec_type: name, exec_info: { code: 'x = 1\n', handler: 'main' } }));
    assert.match(missing.message, 'main');
    const hook = await setupError(pool({ exec_type: name, exec_info: { code: { type: 'path', data: fixture('python/setup_fails.py') }, setup_hook: 'setup' } }));
    assert.match(hook.message, 'setup exploded');
    assert.match(hook.stderr, 'Traceback');
    const file = await setupError(pool({ exec_type: name, exec_info: { code: { type: 'path', data: fixture('python/nope.py') } } }));
    assert.match(file.message, 'nope.py');
  }));

  if (name === 'python3') {
    py('async def handlers are awaited', timed(20_000, async () => {
      const p = pool({ exec_type: name, exec_info: { code: { type: 'path', data: fixture('python/async_handlers.py') } } });
      const results = await Promise.all([1, 2, 3].map((i) => p.result(i)));
      assert.equal(results.map((r) => r.value), [2, 3, 4]);
      assert.equal(results.map((r) => r.stdout), ['async 1\n', 'async 2\n', 'async 3\n']);
    }));
  }

  py.run();
}

const protocol = suite('the Node handler at the protocol level');
protocol('input that ends while init runs: every call queued behind it is answered', timed(20_000, async () => {
  // a setup hook that takes a while: the calls and the end of input arrive during init
  const code = 'export async function setup() { await new Promise((r) => setTimeout(r, 300)); }\nexport const main = (e) => e * 10;';
  const child = spawn(process.execPath, [path.join(repoRoot, 'handlers', 'node_handler.mjs')], { stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'] });
  const toChild = child.stdio[3] as Writable;
  const fromChild = child.stdio[4] as Readable;
  let text = '';
  fromChild.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  toChild.write(JSON.stringify({ type: 'init', worker_id: 0, code: { type: 'string', data: code }, handler: 'main', setup_hook: 'setup' }) + '\n');
  for (let id = 1; id <= 3; id++) toChild.write(JSON.stringify({ type: 'call', id, attempt: 1, data: id }) + '\n');
  toChild.end();
  const status = await new Promise((resolve) => child.on('exit', resolve));
  const results = text.trim().split('\n').map((line) => JSON.parse(line) as { type: string; id?: number; value?: number }).filter((m) => m.type === 'result');
  assert.equal(results.map((r) => [r.id, r.value]), [[1, 10], [2, 20], [3, 30]]);
  assert.is(status, 0);
}));
protocol.run();

const custom = suite('a handler in a third language (Perl), written from docs/protocol.md');
custom.after.each(closeAll);
const perl = spawnSync('perl', ['-e', '1']).status === 0;
if (!perl) console.log('skip perl handler test: perl not found');
else {
  custom('runs items through {executable, handler}', timed(20_000, async () => {
    const p = pool({ exec_type: { executable: 'perl', handler: fixture('perl_handler.pl') }, exec_info: {} }, { processes: 2 });
    const results = await Promise.all([21, 2, 'x'].map((i) => p.result(i)));
    assert.equal(results.map((r) => r.value), [42, 4, undefined]);
    assert.equal(results.map((r) => r.exit), [0, 0, 2]);
    assert.is(results[0]!.stdout, 'perl saw 21\n');
    assert.is(results[2]!.error?.name, 'TypeError');
  }));
}
custom.run();

const shim = suite('an interpreter that is there but does not run');
const pyenv = spawnSync('pyenv', ['--version']).status === 0;
if (!pyenv) console.log('skip pyenv shim test: pyenv not found');
else {
  shim('a pyenv shim for a version that is not selected fails setup with its message and a hint', timed(20_000, () => withEnv('PYENV_VERSION', '3.11.7', async () => {
    const p = new ProcessPool(resolveSpec({ exec_type: 'python2', exec_info: { code: 'def main(e, c): return e' } }), { processes: 1, onWorkerOutput: () => {} });
    const error = await setupError(p);
    await p.close();
    assert.match(error.message, 'python2 (from PATH)');
    assert.match(error.message, 'pyenv: python2: command not found');
    assert.match(error.message, 'POLYTASK_PYTHON2');
  })));
}
shim.run();
