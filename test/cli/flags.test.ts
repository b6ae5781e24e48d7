import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { runCli } from './in-process.js';
import { bin, fixture, scratch, timed } from '../helpers.js';

const { write } = scratch('flags');
const nodeSpec = fixture('specs/node.json');
// sleeps e ms and says so (a string: a returned integer would be read as an exit status)
const sleeper = write('sleeper.json', JSON.stringify({
  exec_type: 'node',
  exec_info: {
    code: 'const sleep = (ms) => new Promise((r) => setTimeout(r, ms));\nexport const main = async (ms) => { await sleep(ms); return "slept " + ms; };\nexport const slowSetup = () => sleep(10_000);',
  },
}));


function cli(args: string[], input: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', timeout: 30_000 });
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, stderr: r.stderr, lines };
}

test('a bad number exits 2 with one line naming the flag and the value', timed(10_000, async () => {
  const cases: [string[], string][] = [
    [['--timeout', '-1'], 'Invalid value for --timeout: expected a number of seconds, 0 (no timeout) or more, at most 2147483 (got "-1")'],
    [['--timeout', '1e9'], 'Invalid value for --timeout: expected a number of seconds, 0 (no timeout) or more, at most 2147483 (got "1e9")'],
    [['-p', '0'], 'Invalid value for -p: expected a whole number, 1 or more (got "0")'],
    [['-p', '-2'], 'Invalid value for -p: expected a whole number, 1 or more (got "-2")'],
    [['--processes', '1.5'], 'Invalid value for --processes: expected a whole number, 1 or more (got "1.5")'],
    [['-n', '0'], 'Invalid value for -n: expected a whole number, 1 or more (got "0")'],
    [['--pipeline', '0'], 'Invalid value for --pipeline: expected a whole number, 1 or more (got "0")'],
    [['--max-memory', '0'], 'Invalid value for --max-memory: expected a number of MB above 0 (got "0")'],
    [['--max-tasks-per-worker', '0'], 'Invalid value for --max-tasks-per-worker: expected a whole number, 1 or more (got "0")'],
    [['--retries', '-1'], 'Invalid value for --retries: expected a whole number, 0 or more (got "-1")'],
    [['--retry-delay', '-0.5'], 'Invalid value for --retry-delay: expected a number of seconds, 0 or more, at most 2147483 (got "-0.5")'],
    [['--setup-timeout', '0'], 'Invalid value for --setup-timeout: expected a number of seconds above 0, at most 2147483 (got "0")'],
    [['--timeout', 'soon'], 'Invalid value for --timeout: expected a number of seconds, 0 (no timeout) or more, at most 2147483 (got "soon")'],
  ];
  for (const [flags, message] of cases) {
    for (const command of [['run', '-s', nodeSpec], ['-s', nodeSpec]]) {
      const r = await runCli([...command, ...flags]);
      assert.is(r.status, 2, flags.join(' '));
      assert.is(r.stdout, '');
      assert.is(r.stderr, `polytask: ${message}\n`);
    }
  }
  const validate = await runCli(['validate', '-s', nodeSpec, '-p', '0']);
  assert.is(validate.status, 2);
  assert.is(validate.stderr, 'polytask: Invalid value for -p: expected a whole number, 1 or more (got "0")\n');
}));

test('--timeout 0 is no timeout (as for timeout(1)); a small one still times out', timed(30_000, async () => {
  const none = cli(['run', '-s', sleeper, '--timeout', '0', '--keep-order'], '300\n0\n');
  assert.is(none.status, 0, none.stderr);
  assert.equal(none.lines.map((l) => [l.exit, l.value]), [[0, 'slept 300'], [0, 'slept 0']]);
  const small = cli(['run', '-s', sleeper, '--timeout', '0.1', '--keep-order'], '3000\n');
  assert.is(small.status, 1);
  assert.is(small.lines[0]!.timedOut, true);
}));

test('-n and --n-processes (multirunner\'s names) set the number of children, like -p', timed(30_000, async () => {
  for (const flag of ['-n', '--n-processes', '-p', '--processes']) {
    const r = cli(['-s', sleeper, flag, '3', '--stats'], '0\n0\n0\n0\n0\n0\n');
    assert.is(r.status, 0, r.stderr);
    assert.is(r.lines.length, 6);
    assert.equal(r.stderr.match(/stats: child \d+:/g), ['stats: child 0:', 'stats: child 1:', 'stats: child 2:'], `${flag}: ${r.stderr}`);
  }
}));

test('--setup-timeout (seconds) bounds the setup hook: exit 2 naming the limit', timed(30_000, async () => {
  for (const command of ['run', 'validate']) {
    const r = cli([command, '-s', sleeper, '--setup-hook', 'slowSetup', '-p', '1', '--setup-timeout', '0.3'], '0\n');
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, 'did not answer the init message within 300 ms');
  }
}));

test.run();
