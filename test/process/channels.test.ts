import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Subprocess } from '../../src/process/subprocess.js';
import { LineChannel, PipeChannel, TestChannel, type Channel } from '../../src/process/channels.js';
import { SocketChannel } from '../../src/process/socket-channel.js';
import { EndpointClosedError, SocketTimeoutError } from '../../src/errors.js';
import { fixture, isAlive, timed } from '../helpers.js';

const it = suite('channels');
const started: Subprocess[] = [];
const channels: Channel[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'polytask-channels-'));

function start(command: string[], options: { stdin?: 'pipe' | 'ignore' } = {}): [Subprocess, PipeChannel] {
  const p = new Subprocess(command, options);
  started.push(p);
  const channel = new PipeChannel({ readable: p.child.stdout, writable: p.child.stdin });
  channels.push(channel);
  return [p, channel];
}

it.after.each(async () => {
  for (const c of channels.splice(0)) c.close();
  for (const p of started.splice(0)) {
    p.kill('SIGKILL');
    await p.wait().catch(() => {});
    assert.not.ok(isAlive(p.pid!), `pid ${p.pid} is reaped`);
  }
});

const closed = (e: unknown) => e instanceof EndpointClosedError;

// read() until `want` bytes came, waiting between tries
async function readBytes(channel: Channel, want: number): Promise<string> {
  let text = '';
  while (text.length < want) text += (await channel.readAsync()).toString();
  return text;
}

it('cat over a pipe: read() never waits, readAsync() does', timed(10_000, async () => {
  const [, channel] = start(['cat']);
  assert.is(channel.read().length, 0);
  channel.write('hello, ', Buffer.from('world'));
  assert.is(await readBytes(channel, 12), 'hello, world');
  assert.is(channel.read().length, 0);
}));

it('cat with line buffering: partial writes give nothing until the line is whole', timed(10_000, async () => {
  const [p, pipe] = start(['cat']);
  const channel = new LineChannel(pipe);
  channel.write('hel');
  channel.write('lo\nwor');
  assert.is((await channel.readAsync()).toString(), 'hello\n');
  channel.write('ld\nand a tail');
  assert.is((await channel.readAsync()).toString(), 'world\n');
  p.closeStdin();
  assert.is((await channel.readAsync()).toString(), 'and a tail', 'the trailing partial line after the peer closed');
  await p.wait();
  assert.throws(() => channel.read(), closed);
}));

it('reading after the writer exited returns what it wrote, then throws EndpointClosedError', timed(10_000, async () => {
  const [p, channel] = start(['printf', 'first\nsecond'], { stdin: 'ignore' });
  await p.wait();
  assert.is(channel.read().toString(), 'first\nsecond');
  assert.throws(() => channel.read(), closed);
  assert.throws(() => channel.write('x'), closed);
  const lines = new LineChannel(new TestChannel());
  assert.is(lines.read().length, 0);
}));

it('for await over a channel yields the chunks and ends when the peer goes', timed(10_000, async () => {
  const [, pipe] = start(['sh', '-c', 'echo one; echo two; echo three'], { stdin: 'ignore' });
  const seen: string[] = [];
  for await (const line of new LineChannel(pipe)) seen.push(line.toString());
  assert.equal(seen, ['one\n', 'two\n', 'three\n']);
}));

it('after close() reads and writes throw EndpointClosedError', timed(10_000, async () => {
  const [, channel] = start(['cat']);
  channel.close();
  assert.ok(channel.ended);
  assert.throws(() => channel.read(), closed);
  assert.throws(() => channel.write('x'), closed);
  await assert.not.throws(() => channel.onChange(() => {}));
}));

it('TestChannel: put() feeds read(), get() returns what was written, end() ends it', () => {
  const channel = new TestChannel();
  channel.put('abc');
  channel.put(Buffer.from('def'));
  assert.is(channel.read().toString(), 'abcdef');
  channel.write('x', 'y');
  channel.write(Buffer.from('z'));
  assert.is(channel.get().toString(), 'xyz');
  assert.is(channel.get().length, 0);
  const lines = new LineChannel(channel);
  channel.put('one\ntwo');
  channel.end();
  assert.is(lines.read().toString(), 'one\n');
  assert.is(lines.read().toString(), 'two');
  assert.throws(() => lines.read(), closed);
  assert.throws(() => channel.write('late'), closed);
});

async function echoServer(where: string): Promise<[Subprocess, string]> {
  const p = new Subprocess([process.execPath, fixture('process/echo-server.mjs'), where]);
  started.push(p);
  const lines = p.lines();
  const first = await lines.next();
  return [p, String(first.value).split(' ')[1]!];
}

it('SocketChannel over a UNIX socket and over TCP (no delay); a peer that goes gives EndpointClosedError', timed(10_000, async () => {
  const [unixServer, socketPath] = await echoServer(path.join(dir, 'echo.sock'));
  const unix = await SocketChannel.connect(socketPath);
  channels.push(unix);
  unix.write('over unix');
  assert.is(await readBytes(unix, 9), 'over unix');
  const [, port] = await echoServer('tcp');
  const tcp = await SocketChannel.connect({ host: '127.0.0.1', port: Number(port) });
  channels.push(tcp);
  tcp.write('over tcp');
  assert.is(await readBytes(tcp, 8), 'over tcp');
  unixServer.kill('SIGKILL');
  try {
    await unix.readAsync();
    assert.unreachable('readAsync should throw');
  } catch (error) {
    assert.instance(error, EndpointClosedError);
  }
  assert.throws(() => unix.write('x'), closed);
}));

it('waiting for a socket that never comes ends with a SocketTimeoutError naming it', timed(10_000, async () => {
  const missing = path.join(dir, 'never.sock');
  try {
    await SocketChannel.connectWhenReady(missing, 200);
    assert.unreachable('should time out');
  } catch (error) {
    assert.instance(error, SocketTimeoutError);
    assert.match((error as Error).message, missing);
    assert.match((error as Error).message, '200 ms');
  }
}));

it.run();
