// The exit-status rule (multirunner's): a returned integer is the item's exit status by
// default; the spec's exit_from_return: false or --no-exit-from-return make it only the value.
// The parent applies the rule, so a handler that knows nothing of it (Perl) behaves the same.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { ProcessPool } from '../../src/pool/process/pool.js';
import { resolveSpec } from '../../src/spec/load.js';
import type { JobSpec } from '../../src/spec/schema.js';
import { SpecError } from '../../src/errors.js';
import { bin, fixture, scratch, timed } from '../helpers.js';
import { availableRuntimes } from '../runtimes.js';

const files = scratch('polytask-exit-rule-');
const square = files.write('square.json', JSON.stringify({ exec_type: 'node', exec_info: { code: 'export const main = (e) => { if (e === "boom") throw new Error("boom"); return e * e; };' } }));

function run(args: string[], input: string) {
  const r = spawnSync(process.execPath, [bin, 'run', '-s', square, '-p', '1', ...args], { input, encoding: 'utf8', timeout: 30_000 });
  const results = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { exit: number; value?: unknown });
  return { status: r.status, stderr: r.stderr, results };
}

const cli = suite('polytask run and the exit-status rule');

cli('by default a returned non-zero number fails its item, and the end-of-run message says why', timed(30_000, async () => {
  const r = run([], '5\n0\n3\n');
  assert.equal(r.results.map((x) => [x.exit, x.value]), [[25, 25], [0, 0], [9, 9]]);
  assert.is(r.status, 1);
  assert.match(r.stderr, 'polytask: 2 of 3 items failed\n');
  assert.match(r.stderr, 'polytask: 2 items returned a non-zero number, read as their exit status; see --no-exit-from-return\n');
}));

cli('--no-exit-from-return: the number is the value, exit 0; a raised error still fails', timed(30_000, async () => {
  const r = run(['--no-exit-from-return'], '5\n"boom"\n3\n');
  assert.equal(r.results.map((x) => [x.exit, x.value]), [[0, 25], [1, undefined], [0, 9]]);
  assert.is(r.status, 1);
  assert.match(r.stderr, 'polytask: 1 of 3 items failed\n');
  assert.not.match(r.stderr, 'returned a non-zero number');
}));

cli('a failure that is not a returned number gets no hint', timed(30_000, async () => {
  const r = run([], '"boom"\n');
  assert.is(r.status, 1);
  assert.not.match(r.stderr, 'returned a non-zero number');
}));

cli.run();

const spec = suite('the spec field exit_from_return');
const pools: ProcessPool[] = [];
spec.after.each(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
function pool(value: JobSpec): ProcessPool {
  const p = new ProcessPool(resolveSpec(value), { processes: 1, onWorkerOutput: () => {} });
  pools.push(p);
  return p;
}

for (const runtime of availableRuntimes()) {
  const code = runtime.name === 'node'
    ? 'export const main = (e) => { if (e === "boom") throw new Error("boom"); return e; };'
    : 'def main(e, c):\n    if e == "boom":\n        raise ValueError("boom")\n    return e\n';
  spec(`on ${runtime.name}: true (the default) and false`, timed(30_000, async () => {
    const exec_type = runtime.name;
    const strict = pool({ exec_type, exec_info: { code } });
    assert.equal([(await strict.result(3)).exit, (await strict.result(0)).exit], [3, 0]);
    const loose = pool({ exec_type, exec_info: { code }, exit_from_return: false });
    const three = await loose.result(3);
    assert.equal([three.exit, three.value], [0, 3]);
    const boom = await loose.result('boom');
    assert.equal([boom.exit, boom.error?.name], [1, runtime.name === 'node' ? 'Error' : 'ValueError']);
  }));
}

spec('a custom handler that knows nothing of the field keeps working (Perl)', timed(30_000, async () => {
  if (spawnSync('perl', ['-e', '1']).status !== 0) return void console.log('skip: perl not found');
  const p = pool({ exec_type: { executable: 'perl', handler: fixture('perl_handler.pl') }, exec_info: {}, exit_from_return: false });
  const [ok, bad] = await Promise.all([p.result(21), p.result('x')]);
  assert.equal([ok.exit, ok.value], [0, 42]);
  assert.equal([bad.exit, bad.error?.name], [2, 'TypeError']);
}));

spec('a value that is not a boolean is refused, naming the field', () => {
  assert.throws(() => resolveSpec({ exec_type: 'node', exec_info: { code: 'x' }, exit_from_return: 'no' }), (e: unknown) => e instanceof SpecError && /exit_from_return: expected a boolean, got "no"/.test((e as Error).message));
});

spec.run();
