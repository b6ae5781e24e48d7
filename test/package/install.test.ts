// The package as a user gets it: `npm pack` (of the build that `prepare` makes), installed into an
// empty project, then used from an ES module, from CommonJS (require of an ES module, Node
// 20.19+), through `npx polytask`, and refused with a clear message where require() cannot work
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, scratch, timed } from '../helpers.js';

const dir = scratch('package');
const project = path.join(dir.dir, 'project');

// a command that must succeed, with a time limit of its own (spawnSync blocks the timer of timed())
function run(command: string, args: string[], cwd: string, what: string): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, npm_config_loglevel: 'error' } });
  assert.is(r.status, 0, `${what} failed (${r.status ?? r.signal}): ${r.stderr}${r.error?.message ?? ''}`);
  return r;
}

const missing = spawnSync('npm', ['--version'], { encoding: 'utf8' }).error;

test('the packed tarball holds the build, the handlers and the docs, and no source maps', timed(150_000, async () => {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.is(manifest.scripts['prepare'], 'npm run build', 'a git install or a pack from a fresh clone builds first');
  // --ignore-scripts: `npm test` has built already
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir.dir], repoRoot, 'npm pack');
  const [{ files }] = JSON.parse(packed.stdout) as [{ files: { path: string }[] }];
  const paths = files.map((f) => f.path);
  for (const needed of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cjs.cjs', 'dist/src/cli/bundle.js', 'dist/src/cli/vendor/libraries.js', 'dist/src/cli/vendor/chunk.js', 'bin/polytask.js', 'handlers/python_handler.py', 'docs/api.md', 'LICENSE', 'README.md']) {
    assert.ok(paths.includes(needed), `${needed} is in the tarball`);
  }
  assert.equal(paths.filter((p) => p.endsWith('.map')), [], 'no source map without its sources');
  assert.equal(paths.filter((p) => p.startsWith('dist/test/') || p.startsWith('test/')), [], 'no tests');
  // every relative link of the README reaches a file of the package
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  for (const [, target] of readme.matchAll(/\]\(((?!https?:|#)[^)#\s]+)(#[^)]*)?\)/g)) {
    assert.ok(paths.includes(path.normalize(target!)), `README links to ${target}, which is in the tarball`);
  }
}));

test('installed into an empty project: import, require (Node 20.19+) and npx polytask work', timed(240_000, async () => {
  const tarball = readdirSync(dir.dir).find((name) => name.endsWith('.tgz'));
  assert.ok(tarball !== undefined, 'the previous test packed the tarball');
  run('mkdir', ['-p', project], dir.dir, 'mkdir');
  run('npm', ['init', '-y'], project, 'npm init');
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(dir.dir, tarball!)], project, 'npm install of the tarball');
  assert.ok(existsSync(path.join(project, 'node_modules', 'polytask', 'dist', 'src', 'index.js')));

  const esm = run(process.execPath, ['--input-type=module', '-e', "import { task } from 'polytask'; const t = task((x) => x * 2); console.log(await t(21)); await t.close();"], project, 'import');
  assert.is(esm.stdout, '42\n');

  const cjs = run(process.execPath, ['-e', "const { task } = require('polytask'); const t = task((x) => x + 1); t(41).then(async (v) => { console.log(v); await t.close(); });"], project, 'require');
  assert.is(cjs.stdout, '42\n');

  const version = run('npx', ['--no-install', 'polytask', '--version'], project, 'npx polytask --version');
  const { version: expected } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  assert.is(version.stdout.trim(), expected);
  // --redis loads BullMQ and ioredis from the CLI's own chunk: it gets as far as connecting
  writeFileSync(path.join(project, 'spec.yml'), 'exec_type: node\nexec_info:\n  code: "export const main = (e) => e"\n');
  const remote = spawnSync('npx', ['--no-install', 'polytask', 'run', '-s', 'spec.yml', '-d', 'spec.yml', '--redis', `redis+unix://${path.join(dir.dir, 'none.sock')}`], { cwd: project, encoding: 'utf8', timeout: 60_000 });
  assert.is(remote.status, 2, remote.stderr);
  assert.match(remote.stderr, /^polytask: SetupError: cannot reach Redis at redis\+unix:\/\/.*none\.sock: /);
  assert.not.match(remote.stderr, /module|cannot find|not a constructor/i, 'the libraries loaded');

  // where require() of an ES module is off, the message says why and what to do
  const off = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', "require('polytask')"], { cwd: project, encoding: 'utf8', timeout: 30_000 });
  assert.is.not(off.status, 0);
  assert.match(off.stderr, /polytask is an ES module: require\('polytask'\) needs Node 20\.19 or later/);
  assert.match(off.stderr, /Use import\('polytask'\)/);
}));

if (missing !== undefined) console.log(`skip the package tests: npm not found (${missing.message})`);
else test.run();
