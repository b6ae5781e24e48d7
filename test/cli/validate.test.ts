import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin, missingInterpreter, scratch, timed } from '../helpers.js';

const { dir } = scratch('validate');

// multirunner's layout: tests/test_py.yml names tests/test_py.py, from the repository root
const repo = path.join(dir, 'repo');
mkdirSync(path.join(repo, 'tests'), { recursive: true });
writeFileSync(path.join(repo, 'tests', 'test_py.yml'), 'exec_type: python3\nexec_info:\n  code:\n    type: path\n    data: tests/test_py.py\n  handler: main\n');
writeFileSync(path.join(repo, 'tests', 'test_py.py'), 'def main(event, context):\n    return "got %s" % (event,)\n');
// a spec beside its code
writeFileSync(path.join(repo, 'tests', 'beside.yml'), 'exec_type: python3\nexec_info:\n  code:\n    type: path\n    data: test_py.py\n');

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, input, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const python = missingInterpreter('python3');

test('multirunner\'s specs run unchanged from the repository root; validate says the working directory was used', timed(30_000, async () => {
  if (python) return console.log(`skipped: ${python}`);
  const ok = cli(['validate', '-s', 'tests/test_py.yml']);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, `code tests/test_py.py: ${path.join(repo, 'tests', 'test_py.py')} (the working directory)`);
  const run = cli(['-s', 'tests/test_py.yml', '-n', '1'], '1\n');
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, '"value":"got 1"');
}));

test('a code path found beside the spec: validate says the spec\'s folder', timed(30_000, async () => {
  if (python) return console.log(`skipped: ${python}`);
  const ok = cli(['validate', '-s', 'tests/beside.yml']);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, `code test_py.py: ${path.join(repo, 'tests', 'test_py.py')} (the spec's folder)`);
}));

test.run();
