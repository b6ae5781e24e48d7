import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from './in-process.js';
import { fixture, timed } from '../helpers.js';

test('bare polytask prints the list of commands on stderr and exits 2', timed(10_000, async () => {
  const r = await runCli([]);
  assert.is(r.status, 2);
  assert.is(r.stdout, '');
  assert.match(r.stderr, 'polytask run');
  assert.match(r.stderr, 'polytask validate');
  assert.not.match(r.stderr, 'Command not found');
  assert.not.match(r.stderr, 'While running');
}));

test('run or validate without -s says in one line that -s is needed, exit 2', timed(10_000, async () => {
  for (const [argv, command] of [[['run'], 'run'], [['-d', 'items.jsonl'], 'run'], [['run', '-p', '2'], 'run'], [['validate'], 'validate']] as const) {
    const r = await runCli([...argv]);
    assert.is(r.status, 2, argv.join(' '));
    assert.is(r.stdout, '');
    assert.is(r.stderr, `polytask: ${command} needs -s,--spec FILE: the job spec (YAML or JSON); see polytask ${command} --help\n`);
  }
}));

test('--help still works without -s', timed(10_000, async () => {
  const r = await runCli(['run', '--help']);
  assert.is(r.status, 0);
  assert.match(r.stdout, '--spec');
}));

test('a bad flag value is one line naming the flag and the value, exit 2', timed(10_000, async () => {
  const r = await runCli(['run', '-s', fixture('specs/node.json'), '--timeout', '-1']);
  assert.is(r.status, 2);
  assert.is(r.stderr, 'polytask: Invalid value for --timeout: expected a number of seconds, 0 (no timeout) or more, at most 2147483 (got "-1")\n');
}));

test('each command parses alone; errors name the command, as when every command is registered', timed(10_000, async () => {
  for (const command of ['run', 'validate', 'worker']) {
    const r = await runCli([command, '--bogus']);
    assert.is(r.status, 2, command);
    assert.match(r.stderr, 'Unsupported option name ("--bogus")', command);
    assert.match(r.stderr, `$ polytask ${command}`, command);
  }
  const typo = await runCli(['validat']);
  assert.is(typo.status, 2);
  assert.match(typo.stderr, 'Extraneous positional argument ("validat")');
  const help = await runCli(['worker', '--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, '--redis');
  for (const flag of ['--version', '-v']) {
    const version = await runCli([flag]);
    assert.is(version.status, 0, flag);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/, flag);
  }
  const list = await runCli(['-h']);
  assert.is(list.status, 0);
  assert.match(list.stdout, 'polytask worker');
}));

test.run();
