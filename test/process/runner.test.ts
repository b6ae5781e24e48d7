// The cases of the Python tool `runner`, ported, plus the defects it had (orphans, an unbounded
// wait for the socket). Socket apps are test/fixtures/process/echo-server.mjs, not socat.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Runner } from '../../src/process/runner.js';
import { Channel, LineChannel, PipeChannel } from '../../src/process/channels.js';
import { SocketChannel } from '../../src/process/socket-channel.js';
import { Subprocess } from '../../src/process/subprocess.js';
import { EndpointClosedError, OptionError, ProcessExistsError, SetupError, SocketTimeoutError } from '../../src/errors.js';
import { fixture, isAlive, timed } from '../helpers.js';

const it = suite('Runner');
const runners: Runner[] = [];
const pids: number[] = [];
function runner(options?: ConstructorParameters<typeof Runner>[0]): Runner {
  const r = new Runner(options);
  runners.push(r);
  return r;
}
function remember(r: Runner, ...aliases: string[]): void {
  for (const alias of aliases) pids.push(r.pid(alias)!);
}
it.after.each(async () => {
  for (const r of runners.splice(0)) await r.terminateAll({ graceMs: 500 });
  // no zombie and no orphan after any case
  for (const pid of pids.splice(0)) assert.not.ok(isAlive(pid), `pid ${pid} is gone and reaped`);
});

const base = mkdtempSync(path.join(tmpdir(), 'polytask-runner-'));
function mkdir(): string {
  return mkdtempSync(path.join(base, 'd'));
}
function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdir();
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

async function readLine(channel: Channel): Promise<string> {
  let text = '';
  while (!text.includes('\n')) text += (await channel.readAsync()).toString();
  return text;
}
const closed = (e: unknown) => e instanceof EndpointClosedError;
const echoServer = fixture('process/echo-server.mjs');
const node = process.execPath;
const quiet = { ECHO_QUIET: '1' };

it('cat over stdio: what is written comes back', timed(10_000, async () => {
  const r = runner();
  r.updateConfig({ cat: { command: 'cat', type: 'stdio' } });
  await r.ensureRunning('cat');
  remember(r, 'cat');
  const channel = r.getChannel('cat')!;
  assert.instance(channel, PipeChannel);
  channel.write('hello, world');
  let text = '';
  while (text.length < 12) text += (await channel.readAsync()).toString();
  assert.is(text, 'hello, world');
}));

it('cat with line buffering: partial writes come back as one line', timed(10_000, async () => {
  const r = runner();
  r.add('cat', 'cat', { buffering: 'line' });
  const channel = await r.start('cat');
  remember(r, 'cat');
  assert.instance(channel, LineChannel);
  channel.write('hel');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.is(channel.read().length, 0, 'no whole line yet');
  channel.write('lo\nsecond\n');
  assert.is((await channel.readAsync()).toString(), 'hello\n');
  assert.is((await channel.readAsync()).toString(), 'second\n');
}));

it('a socket app on a UNIX socket', timed(10_000, async () => {
  const socket = path.join(mkdir(), 'socket');
  const r = runner();
  r.updateConfig({ echo: { command: [node, echoServer, socket], type: 'socket', socket } });
  const channel = await r.ensureRunning('echo');
  remember(r, 'echo');
  assert.instance(channel, SocketChannel);
  channel.write('hello, world\n');
  assert.is(await readLine(channel), 'hello, world\n');
}));

it('cwd: the app runs in its directory', timed(10_000, async () => {
  const dir = tempDir({ file: '{"message": "test"}\n' });
  const r = runner();
  r.updateConfig({ cat: { command: 'cat file', cwd: dir } });
  await r.ensureRunning('cat');
  assert.is(await readLine(r.getChannel('cat')!), '{"message": "test"}\n');
}));

it('aliases, with withArgs: two instances of one app', timed(10_000, async () => {
  const dir = tempDir({ file1: 'test1\n', file2: 'test2\n' });
  const r = runner();
  r.add('cat', ['cat'], { cwd: dir });
  // each cat exits once it has printed its file, which frees its alias: the channels are the
  // ones ensureRunning returned (they keep what arrived), not getChannel's after the fact
  const cat1 = await r.ensureRunning('cat', { alias: 'cat1', withArgs: ['file1'] });
  const cat2 = await r.ensureRunning('cat', { alias: 'cat2', withArgs: ['file2'] });
  assert.is(await readLine(cat1), 'test1\n');
  assert.is(await readLine(cat2), 'test2\n');
  const r2 = runner();
  r2.add('cat', 'cat');
  await r2.start('cat', { alias: 'cat0' });
  remember(r2, 'cat0');
  assert.is(r2.getChannel('cat'), undefined);
  r2.getChannel('cat0')!.write('via alias\n');
  assert.is(await readLine(r2.getChannel('cat0')!), 'via alias\n');
}));

it('terminate: the alias is freed, the process reaped, and read/write throw EndpointClosedError', timed(10_000, async () => {
  const r = runner();
  r.add('cat', 'cat');
  const channel = await r.ensureRunning('cat');
  const pid = r.pid('cat')!;
  await r.terminate('cat');
  assert.not.ok(isAlive(pid));
  assert.is(r.getChannel('cat'), undefined);
  assert.throws(() => channel.read(), closed);
  assert.throws(() => channel.write(' '), closed);
}));

it('terminate a socket app: the same', timed(10_000, async () => {
  const socket = path.join(mkdir(), 'socket');
  const r = runner();
  r.add('echo', [node, echoServer, socket], { type: 'socket', socket, env: quiet });
  const channel = await r.ensureRunning('echo');
  const pid = r.pid('echo')!;
  await r.terminate('echo');
  assert.not.ok(isAlive(pid));
  assert.is(r.getChannel('echo'), undefined);
  assert.throws(() => channel.read(), closed);
  assert.throws(() => channel.write(' '), closed);
}));

it('a stale socket file (a leftover regular file) is waited past until the app listens', timed(10_000, async () => {
  const dir = tempDir({ socket: '' });
  const r = runner();
  r.add('echo', `${node} ${echoServer} socket 100`, { type: 'socket', cwd: dir, env: quiet });
  const channel = await r.ensureRunning('echo', { socket: 'socket' });
  remember(r, 'echo');
  channel.write('fresh\n');
  assert.is(await readLine(channel), 'fresh\n');
}));

it('a socket created late, by a command given as one quoted string', timed(10_000, async () => {
  const dir = mkdir();
  const r = runner();
  r.add('echo', `sh -c "sleep 0.2; exec '${node}' '${echoServer}' socket"`, { type: 'socket', cwd: dir, env: quiet });
  const channel = await r.ensureRunning('echo', { socket: path.join(dir, 'socket') });
  remember(r, 'echo');
  channel.write('late\n');
  assert.is(await readLine(channel), 'late\n');
}));

it('a socket that never comes: SocketTimeoutError, and the app is ended', timed(10_000, async () => {
  const dir = mkdir();
  const r = runner();
  r.add('sleeper', ['sleep', '30'], { type: 'socket', socket: path.join(dir, 'never'), socketTimeout: 300 });
  const starting = r.start('sleeper');
  const pid = r.pid('sleeper')!;
  try {
    await starting;
    assert.unreachable('start should fail');
  } catch (error) {
    assert.instance(error, SocketTimeoutError);
    assert.match((error as Error).message, path.join(dir, 'never'));
  }
  assert.not.ok(isAlive(pid));
  assert.equal(r.aliases(), []);
  r.add('quitter', ['sh', '-c', 'exit 4'], { type: 'socket', socket: path.join(dir, 'never') });
  try {
    await r.start('quitter');
    assert.unreachable('start should fail');
  } catch (error) {
    assert.instance(error, SetupError);
    assert.match((error as Error).message, 'exited (status 4) before its socket');
  }
}));

it('terminate then start again', timed(10_000, async () => {
  const r = runner();
  r.add('cat', 'cat');
  await r.ensureRunning('cat');
  await r.terminate('cat');
  await r.ensureRunning('cat');
  remember(r, 'cat');
  r.getChannel('cat')!.write('hello\n');
  assert.is(await readLine(r.getChannel('cat')!), 'hello\n');
}));

it('start() of a running alias throws ProcessExistsError', timed(10_000, async () => {
  const r = runner();
  r.add('sleep', 'sleep 5');
  await r.start('sleep');
  remember(r, 'sleep');
  try {
    await r.start('sleep');
    assert.unreachable('second start should fail');
  } catch (error) {
    assert.instance(error, ProcessExistsError);
    assert.match((error as Error).message, '`alias`');
    assert.is((error as ProcessExistsError).pid, r.pid('sleep'));
  }
}));

it('ensureRunning twice starts it once', timed(10_000, async () => {
  const r = runner();
  r.add('echo', ['sh', '-c', 'echo "$0"; read x']);
  await r.ensureRunning('echo', { withArgs: ['hello, world'] });
  await r.ensureRunning('echo', { withArgs: ['goodbye, world'] });
  remember(r, 'echo');
  assert.is(await readLine(r.getChannel('echo')!), 'hello, world\n');
}));

it('a process that exits by itself frees its alias; its channel gives its last output, then the end', timed(10_000, async () => {
  const r = runner();
  r.add('echo', ['printf', 'bye']);
  const channel = await r.start('echo');
  const pid = r.pid('echo')!;
  let text = '';
  for await (const chunk of channel) text += chunk.toString();
  assert.is(text, 'bye');
  assert.throws(() => channel.read(), closed);
  while (r.aliases().length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.not.ok(isAlive(pid));
  await r.start('echo');
}));

async function ctrlC(mode: string): Promise<string> {
  // the parent leads a process group of its own, as a shell's foreground job would
  const parent = new Subprocess([node, fixture('process/ctrl-c-parent.mjs'), mode], { detached: true, stdin: 'ignore', onStderrLine: (line) => console.log(`ctrl-c parent: ${line}`) });
  const lines = parent.lines();
  try {
    const ready = (await lines.next()).value ?? '';
    assert.match(ready, /^ready \d+$/);
    const appPid = Number(ready.split(' ')[1]);
    process.kill(-parent.pid!, 'SIGINT');
    const result = (await lines.next()).value ?? '';
    await parent.wait();
    assert.not.ok(isAlive(appPid), 'the app is gone in the end');
    return result;
  } finally {
    parent.kill('SIGKILL');
    await parent.wait();
  }
}

it('Ctrl-C to the parent\'s process group ends an app that is not detached', timed(15_000, async () => {
  assert.is(await ctrlC('attached'), 'result EndpointClosedError');
}));

it('a detached app does not get the Ctrl-C and still answers', timed(15_000, async () => {
  assert.is(await ctrlC('detached'), 'result test');
}));

it('options given to start() override the configuration (buffering, cwd)', timed(10_000, async () => {
  const r = runner();
  r.updateConfig({ cat: { command: 'cat', buffering: 'line' } });
  const channel = await r.ensureRunning('cat', { buffering: 'none' });
  remember(r, 'cat');
  assert.instance(channel, PipeChannel);
  const dir = tempDir({ file: 'from the override\n' });
  r.updateConfig({ catFile: { command: 'cat file', cwd: '/nonexistent' } });
  assert.is(await readLine(await r.ensureRunning('catFile', { cwd: dir })), 'from the override\n');
}));

it('extraPaths: commands are found there, and the app\'s own PATH has them', timed(10_000, async () => {
  const dir = mkdir();
  writeFileSync(path.join(dir, 'polytask-hello'), '#!/bin/sh\necho hello, world\n');
  writeFileSync(path.join(dir, 'polytask-script'), '#!/bin/sh\nexec polytask-hello\n');
  chmodSync(path.join(dir, 'polytask-hello'), 0o755);
  chmodSync(path.join(dir, 'polytask-script'), 0o755);
  const r = runner({ extraPaths: [dir] });
  r.add('script', 'polytask-script', { buffering: 'line' });
  const channel = await r.ensureRunning('script');
  assert.is((await channel.readAsync()).toString(), 'hello, world\n');
}));

it('an unknown application, or a command that cannot start, fails with a clear error', timed(10_000, async () => {
  const r = runner();
  try {
    await r.start('nothing');
    assert.unreachable('should fail');
  } catch (error) {
    assert.instance(error, OptionError);
    assert.match((error as Error).message, '`name`');
  }
  r.add('missing', '/nonexistent/app');
  try {
    await r.start('missing');
    assert.unreachable('should fail');
  } catch (error) {
    assert.instance(error, SetupError);
    assert.match((error as Error).message, '/nonexistent/app');
  }
  assert.equal(r.aliases(), []);
}));

it('await using: terminateAll() at the end of the block', timed(10_000, async () => {
  let pid: number | undefined;
  {
    await using r = new Runner();
    r.add('cat', 'cat');
    await r.start('cat');
    pid = r.pid('cat');
    assert.ok(pid !== undefined && isAlive(pid));
  }
  assert.not.ok(isAlive(pid!), 'the app is ended when the block ends');
}));

it.run();
