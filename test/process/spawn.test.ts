import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pEvent } from 'p-event';
import { SetupError } from '../../src/errors.js';
import { Spawned, startError } from '../../src/process/spawn.js';
import { isAlive, timed, waitUntil } from '../helpers.js';

// The first line a child writes on stdout
async function firstLine(spawned: Spawned): Promise<string> {
  spawned.child.stdout!.setEncoding('utf8');
  return String(await pEvent(spawned.child.stdout!, 'data')).split('\n')[0]!;
}

test('a command that cannot start: started rejects with the system error, exited is status 127', timed(10_000, async () => {
  const spawned = new Spawned('/nonexistent/command', [], { stdio: 'ignore' });
  const error = await spawned.started.then(() => undefined, (e: NodeJS.ErrnoException) => e);
  assert.is(error?.code, 'ENOENT');
  assert.equal(await spawned.exited, { code: 127, signal: null });
  const setup = startError('`/nonexistent/command`', error!);
  assert.instance(setup, SetupError);
  assert.is(setup.message, `cannot start \`/nonexistent/command\`: ${error!.message}`);
  assert.is(setup.cause, error);
}));

test('terminate(): SIGTERM first, SIGKILL after the grace period for a child that ignores it', timed(10_000, async () => {
  const spawned = new Spawned(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);"], { stdio: ['ignore', 'pipe', 'inherit'] });
  await spawned.started;
  assert.is(await firstLine(spawned), 'ready');
  const started = Date.now();
  const exit = await spawned.terminate({ graceMs: 300 });
  assert.equal(exit, { code: null, signal: 'SIGKILL' });
  assert.ok(Date.now() - started >= 250, 'SIGKILL only after the grace period');
  assert.not.ok(spawned.kill('SIGTERM'), 'nothing left to signal');
}));

test('terminate(): a child that ends on SIGTERM is not waited for', timed(10_000, async () => {
  const spawned = new Spawned('sleep', ['30'], { stdio: 'ignore' });
  await spawned.started;
  assert.equal(await spawned.terminate({ graceMs: 5000 }), { code: null, signal: 'SIGTERM' });
}));

test('a detached child leads its group: kill() reaches what it started, endGroup() what is left after it', timed(10_000, async () => {
  const spawned = new Spawned('sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  assert.is(spawned.group, spawned.pid);
  const grandchild = Number(await firstLine(spawned));
  assert.ok(spawned.kill('SIGTERM'));
  await spawned.exited;
  await waitUntil(() => !isAlive(grandchild), 5000, 'the grandchild to end with the group');

  // the leader exits by itself, leaving a grandchild in its group
  const leader = new Spawned('sh', ['-c', 'sleep 30 & echo $!'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  const left = Number(await firstLine(leader));
  assert.equal(await leader.exited, { code: 0, signal: null });
  assert.ok(isAlive(left));
  leader.endGroup();
  await waitUntil(() => !isAlive(left), 5000, 'what is left of the group to end');
}));

test.run();
