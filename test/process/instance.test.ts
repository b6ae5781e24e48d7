import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { Instance, type InstanceOptions } from '../../src/process/instance.js';
import { EndpointClosedError, SetupError } from '../../src/errors.js';
import { isAlive, missingInterpreter, timed } from '../helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'polytask-instance-'));
const instances: Instance[] = [];
async function track(started: Promise<Instance>): Promise<Instance> {
  const instance = await started;
  instances.push(instance);
  return instance;
}
async function cleanUp(): Promise<void> {
  for (const instance of instances.splice(0)) {
    instance.kill('SIGKILL');
    await instance.wait();
    assert.not.ok(isAlive(instance.pid!), `pid ${instance.pid} is reaped`);
  }
}
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const exchange = `
from polytask_child import parent
while True:
    obj = parent.recv()
    if obj == 'stop':
        parent.send('ok, stopped'); break
    print(obj + '!')
`;

for (const python of ['python3', 'python2']) {
  const it = suite(`Instance on ${python}`);
  const missing = missingInterpreter(python);
  if (missing !== undefined) {
    console.log(`skip Instance tests on ${python}: ${missing}`);
    continue;
  }
  const start = (source: Parameters<typeof Instance.python>[0], options: InstanceOptions = {}) => track(Instance.python(source, { interpreter: python, ...options }));
  it.after.each(cleanUp);

  it('the exchange of the issue: send, print, recv', timed(10_000, async () => {
    const out: string[] = [];
    const py = await start(exchange, { onStdoutLine: (line) => out.push(line) });
    py.send('hello');
    py.send('stop');
    assert.is(await py.recv(), 'ok, stopped');
    assert.equal(await py.wait(), { code: 0, signal: null });
    assert.equal(out, ['hello!']);
  }));

  it('JSON values of every kind come back as they went', timed(10_000, async () => {
    const py = await start('from polytask_child import parent\nwhile True: parent.send(parent.recv())');
    const values = [null, true, 0, -1.5, 'text', 'ünïcødé ✓', [1, [2, {}]], { a: { b: [null, 'x'] } }, 'x'.repeat(200_000)];
    for (const value of values) py.send(value);
    for (const value of values) assert.equal(await py.recv(), value);
    assert.equal(await py.close(), { code: 0, signal: null }, 'the end of the input ends it quietly');
  }));

  it('a child that closes mid-frame gives EndpointClosedError, not a hang', timed(10_000, async () => {
    const py = await start('import os\nos.write(4, b"\\x00\\x00\\x00\\x10{\\"a\\"")\nos._exit(0)');
    const error = await rejection(py.recv());
    assert.instance(error, EndpointClosedError);
    assert.match(error.message, 'mid-frame (got 4 of the 16 bytes of a frame)');
    await py.wait();
    assert.throws(() => py.send(1), (e: unknown) => e instanceof EndpointClosedError);
  }));

  it('a parent that closes mid-frame: the child raises EndpointClosedError with a traceback', timed(10_000, async () => {
    const err: string[] = [];
    const py = await start('from polytask_child import parent\nparent.recv()', { onStderrLine: (line) => err.push(line) });
    const toChild = py.child.stdio[3] as Writable;
    toChild.end(Buffer.from([0, 0, 0, 9, 0x7b]));
    assert.equal(await py.wait(), { code: 1, signal: null });
    assert.match(err.join('\n'), 'EndpointClosedError: the parent closed the channel mid-frame (got 1 of the 9 bytes of a frame)');
  }));

  it('an exception in the child: its traceback on stderr, recv() rejects, the process is reaped', timed(10_000, async () => {
    const err: string[] = [];
    const py = await start('from polytask_child import parent\nparent.send(1)\nraise ValueError("bad")', { onStderrLine: (line) => err.push(line) });
    assert.is(await py.recv(), 1);
    assert.instance(await rejection(py.recv()), EndpointClosedError);
    assert.equal(await py.wait(), { code: 1, signal: null });
    assert.is(err[err.length - 1], 'ValueError: bad');
  }));

  it('runs a file given by path, with arguments', timed(10_000, async () => {
    const file = path.join(dir, 'child.py');
    writeFileSync(file, 'import sys\nfrom polytask_child import parent\nparent.send(sys.argv[1:])\n');
    const py = await start({ path: file }, { args: ['a', 'b'] });
    assert.equal(await py.recv(), ['a', 'b']);
    assert.equal(await py.wait(), { code: 0, signal: null });
  }));

  it.run();
}

const it = suite('Instance on node');
it.after.each(cleanUp);

it('imports polytask/child from code given as a string, and exchanges values', timed(10_000, async () => {
  const js = await track(Instance.node(`
    import { parent } from 'polytask/child';
    for (;;) {
      const obj = await parent.recv();
      if (obj === 'stop') { parent.send('ok, stopped'); break; }
      parent.send({ echo: obj });
    }
  `));
  js.send([1, 'two']);
  js.send('stop');
  assert.equal(await js.recv(), { echo: [1, 'two'] });
  assert.is(await js.recv(), 'ok, stopped');
  assert.equal(await js.wait(), { code: 0, signal: null });
}));

it('runs a module file; the end of the input makes recv() reject in the child', timed(10_000, async () => {
  const file = path.join(dir, 'child.mjs');
  writeFileSync(file, `import { parent } from 'polytask/child';
try { for (;;) parent.send((await parent.recv()) * 2); } catch (e) { console.log('ended: ' + e.name); }`);
  const out: string[] = [];
  const js = await track(Instance.node({ path: file }, { onStdoutLine: (line) => out.push(line) }));
  js.send(21);
  assert.is(await js.recv(), 42);
  assert.equal(await js.close(), { code: 0, signal: null });
  assert.equal(out, ['ended: EndpointClosedError']);
}));

it('a recv() left unhandled when the parent closes ends the child quietly with status 0', timed(10_000, async () => {
  const err: string[] = [];
  const js = await track(Instance.node("import { parent } from 'polytask/child';\nfor (;;) parent.send(await parent.recv());", { onStderrLine: (line) => err.push(line) }));
  js.send('x');
  assert.is(await js.recv(), 'x');
  assert.equal(await js.close(), { code: 0, signal: null });
  assert.equal(err, []);
}));

it('a missing interpreter rejects with a SetupError; unencodable values are refused', timed(10_000, async () => {
  const error = await rejection(Instance.python('print(1)', { interpreter: '/nonexistent/python' }));
  assert.instance(error, SetupError);
  assert.match(error.message, '/nonexistent/python');
  const js = await track(Instance.node('await new Promise(() => {})'));
  assert.throws(() => js.send(undefined), /`value`/);
  assert.throws(() => js.send(10n), /`value`/);
}));

it('await using: the child is closed at the end of the block', timed(10_000, async () => {
  let child: Instance | undefined;
  {
    await using js = await Instance.node(`
      import { parent } from 'polytask/child';
      parent.send(await parent.recv());
      await new Promise(() => {});
    `);
    child = js;
    js.send('hi');
    assert.is(await js.recv(), 'hi');
  }
  const exit = await child.wait();
  assert.ok(exit.code !== null || exit.signal !== null, 'it has exited');
  assert.not.ok(isAlive(child.pid!), 'and was reaped');
}));

it.run();
