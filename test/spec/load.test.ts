import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSpec, resolveSpec } from '../../src/spec/load.js';
import { resolveExecType } from '../../src/spec/interpreter.js';
import { SpecError } from '../../src/errors.js';
import { fixture } from '../helpers.js';

async function specError(load: () => unknown): Promise<SpecError> {
  try {
    await load();
  } catch (error) {
    assert.instance(error, SpecError);
    return error as SpecError;
  }
  throw new Error('expected a SpecError');
}

test('a YAML spec resolves code paths against the spec folder', async () => {
  const spec = await loadSpec(fixture('specs/python3.yml'));
  assert.is(spec.launch.execType, 'python3');
  assert.equal(spec.code, { type: 'path', data: fixture('python/handlers.py') });
  assert.is(spec.handler, 'double');
  assert.is(spec.setupHook, null);
});

test('a JSON spec loads too', async () => {
  const spec = await loadSpec(fixture('specs/node.json'));
  assert.is(spec.launch.command, process.execPath);
  assert.is(spec.handler, 'faulty');
});

test('a bad code type names the field and the value', async () => {
  const error = await specError(() => loadSpec(fixture('specs/bad_code_type.yml')));
  assert.match(error.message, 'exec_info.code.type: expected "path" or "string", got "file"');
});

test('an unknown top-level key is an error', async () => {
  const error = await specError(() => loadSpec(fixture('specs/unknown_key.yml')));
  assert.match(error.message, 'processes: unknown field (value 4)');
});

test('a bad exec_type lists the choices', async () => {
  const error = await specError(() => resolveSpec({ exec_type: 'python4', exec_info: { code: 'x' } }));
  assert.match(error.message, 'exec_type: expected "python2", "python3", "node" or {executable, handler}, got "python4"');
});

test('several problems are all reported', async () => {
  const error = await specError(() => resolveSpec({ exec_type: { executable: 3 }, exec_info: { handler: 'not a name', code: 5 } }));
  assert.match(error.message, 'exec_type.executable: expected a string, got 3');
  assert.match(error.message, 'exec_info.handler');
  assert.match(error.message, 'exec_info.code: expected a string of source code or {type, data}, got 5');
});

test('a missing exec_info is named', async () => {
  const error = await specError(() => resolveSpec({ exec_type: 'node' }));
  assert.match(error.message, 'exec_info: expected an object, got undefined');
});

test('a missing spec file and invalid YAML are SpecErrors', async () => {
  const missing = await specError(() => loadSpec(fixture('specs/nope.yml')));
  assert.match(missing.message, 'cannot read job spec');
  const bad = await specError(() => resolveSpec('just a string'));
  assert.match(bad.message, 'expected an object');
});

test('a bare string is code', () => {
  const spec = resolveSpec({ exec_type: 'node', exec_info: { code: 'export const main = (e) => e' } });
  assert.equal(spec.code, { type: 'string', data: 'export const main = (e) => e' });
  assert.is(spec.handler, 'main');
});

test('overrides replace handler and setup hook, and are validated', async () => {
  const spec = await loadSpec(fixture('specs/python3.yml'), { handler: 'identity', setupHook: 'setup' });
  assert.is(spec.handler, 'identity');
  assert.is(spec.setupHook, 'setup');
  const error = await specError(() => resolveSpec(spec, { handler: 'no such-name' }));
  assert.match(error.message, 'exec_info.handler: expected a function name, got "no such-name"');
});

test('POLYTASK_PYTHON2 points python2 at another interpreter', () => {
  const launch = resolveExecType('python2', '/x', { POLYTASK_PYTHON2: '/opt/py27/bin/python' });
  assert.is(launch.command, '/opt/py27/bin/python');
  assert.match(launch.description, 'from POLYTASK_PYTHON2');
  assert.is(launch.expectMajor, 2);
});

test('a custom exec_type resolves relative paths and the builtin handler names', () => {
  const custom = resolveExecType({ executable: './bin/perl', handler: 'h.pl' }, '/base');
  assert.is(custom.command, '/base/bin/perl');
  assert.equal(custom.args, ['/base/h.pl']);
  const named = resolveExecType({ executable: 'python3.9', handler: 'python' }, '/base');
  assert.is(named.command, 'python3.9');
  assert.is(path.basename(named.args[0]!), 'python_handler.py');
});

// A folder with specs/ and code in it; `body` runs with it as the working directory
async function inRepo(body: (repo: string) => Promise<void>): Promise<void> {
  const repo = realpathSync(mkdtempSync(path.join(tmpdir(), 'polytask-load-')));
  mkdirSync(path.join(repo, 'specs'));
  writeFileSync(path.join(repo, 'specs', 'h.py'), '');
  writeFileSync(path.join(repo, 'root.py'), '');
  writeFileSync(path.join(repo, 'h.py'), '');
  const spec = (name: string, data: string) => writeFileSync(path.join(repo, 'specs', name), `exec_type: python3\nexec_info:\n  code: {type: path, data: ${JSON.stringify(data)}}\n`);
  spec('beside.yml', 'h.py');
  spec('from-root.yml', 'root.py');
  spec('nowhere.yml', 'gone.py');
  spec('absolute.yml', path.join(repo, 'root.py'));
  const saved = process.cwd();
  process.chdir(repo);
  try {
    await body(repo);
  } finally {
    process.chdir(saved);
  }
}

test('a relative code path: the spec folder first, then the working directory; the one used is said', () => inRepo(async (repo) => {
  // in both places: the spec's folder wins
  const beside = await loadSpec('specs/beside.yml');
  assert.equal(beside.code, { type: 'path', data: path.join(repo, 'specs', 'h.py') });
  assert.equal(beside.codePath, { given: 'h.py', base: 'spec' });
  // only under the working directory (multirunner's specs)
  const fromRoot = await loadSpec('specs/from-root.yml');
  assert.equal(fromRoot.code, { type: 'path', data: path.join(repo, 'root.py') });
  assert.equal(fromRoot.codePath, { given: 'root.py', base: 'cwd' });
  // nowhere: the spec's folder, where the child will say it is missing
  const nowhere = await loadSpec('specs/nowhere.yml');
  assert.equal(nowhere.code, { type: 'path', data: path.join(repo, 'specs', 'gone.py') });
  assert.equal(nowhere.codePath, { given: 'gone.py', base: 'spec' });
  // an absolute path is taken as it is
  const absolute = await loadSpec('specs/absolute.yml');
  assert.equal(absolute.code, { type: 'path', data: path.join(repo, 'root.py') });
  assert.is(absolute.codePath, undefined);
  // a spec object has no folder of its own: the working directory
  const object = resolveSpec({ exec_type: 'python3', exec_info: { code: { type: 'path', data: 'root.py' } } });
  assert.equal(object.code, { type: 'path', data: path.join(repo, 'root.py') });
  assert.equal(object.codePath, { given: 'root.py', base: 'cwd' });
}));

test.run();
