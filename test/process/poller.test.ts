import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Poller, type PollEvent } from '../../src/process/poller.js';
import { LineChannel, PipeChannel, TestChannel } from '../../src/process/channels.js';
import { SocketChannel } from '../../src/process/socket-channel.js';
import { Subprocess } from '../../src/process/subprocess.js';
import { EndpointClosedError } from '../../src/errors.js';
import { isAlive, timed } from '../helpers.js';

const it = suite('Poller');
const dir = mkdtempSync(path.join(tmpdir(), 'polytask-poller-'));
const started: Subprocess[] = [];
const pollers: Poller[] = [];
function poller(): Poller {
  const p = new Poller();
  pollers.push(p);
  return p;
}
it.after.each(async () => {
  for (const p of pollers.splice(0)) p.closeAll();
  for (const p of started.splice(0)) {
    p.kill('SIGKILL');
    await p.wait().catch(() => {});
    assert.not.ok(isAlive(p.pid!), `pid ${p.pid} is reaped`);
  }
});

const text = (events: PollEvent[]) => events.map(([data, channel]) => [Buffer.isBuffer(data) ? data.toString() : 'client', channel]);

it('returns [data, channel] for each channel with data, and [] after a timeout', timed(10_000, async () => {
  const p = poller();
  const a = new TestChannel();
  const b = new TestChannel();
  p.register(a);
  p.register(b);
  assert.equal(await p.poll(0), []);
  a.put('from a');
  b.put('from b');
  assert.equal(text(await p.poll(1000)), [['from a', a], ['from b', b]]);
  assert.equal(await p.poll(20), []);
  p.unregister(b);
  b.put('unseen');
  assert.equal(await p.poll(20), []);
}));

it('waits for a process to write, and reports a channel whose peer went once, with empty data', timed(10_000, async () => {
  const p = poller();
  const child = new Subprocess(['sh', '-c', 'read x; echo "got $x"']);
  started.push(child);
  const channel = new LineChannel(new PipeChannel({ readable: child.child.stdout, writable: child.child.stdin }));
  p.register(channel);
  const waiting = p.poll();
  channel.write('ping\n');
  assert.equal(text(await waiting), [['got ping\n', channel]]);
  await child.wait();
  assert.equal(text(await p.poll(5000)), [['', channel]]);
  assert.equal(await p.poll(20), [], 'the ended channel was unregistered');
}));

it('addServer() accepts clients, registers them and reports [[address, client], server]', timed(10_000, async () => {
  const p = poller();
  const socketPath = path.join(dir, 'server.sock');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  p.addServer(server);
  const script = `const s = require('net').connect(${JSON.stringify(socketPath)}, () => s.write('hello'));
    s.on('data', (d) => { console.log('client got ' + d); s.end(); });`;
  const client = new Subprocess([process.execPath, '-e', script], { collectOutput: true });
  started.push(client);
  const events: PollEvent[] = [];
  while (!events.some(([data]) => Buffer.isBuffer(data) && data.length > 0)) events.push(...await p.poll(5000));
  const accepted = events.find(([, source]) => source === server);
  assert.ok(accepted !== undefined, 'the new client was reported');
  const [address, channel] = accepted![0] as [string, SocketChannel];
  assert.type(address, 'string');
  assert.instance(channel, SocketChannel);
  assert.ok(events.some(([data, source]) => source === channel && data.toString() === 'hello'));
  channel.write('back');
  const exit = await client.wait();
  assert.is(exit.stdout, 'client got back\n');
  p.closeAll();
  assert.throws(() => channel.read(), (e: unknown) => e instanceof EndpointClosedError);
  assert.not.ok(server.listening, 'closeAll() closed the server');
}));

it('rejects a bad timeout, naming the option', timed(10_000, async () => {
  try {
    await poller().poll(-1);
    assert.unreachable('should throw');
  } catch (error) {
    assert.match((error as Error).message, '`timeoutMs`');
  }
}));

it.run();
