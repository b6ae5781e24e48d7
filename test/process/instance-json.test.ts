// Values JSON cannot carry, between an Instance and its child: the child's send() refuses
// them (an error in the child, nothing sent), the parent's send() too, and a bad frame from
// the child never costs the values that came before it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance } from '../../src/process/instance.js';
import { EndpointClosedError, OptionError } from '../../src/errors.js';
import { missingInterpreter, timed } from '../helpers.js';

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

for (const python of ['python3', 'python2']) {
  const missing = missingInterpreter(python);
  if (missing !== undefined) {
    console.log(`skip Instance JSON tests on ${python}: ${missing}`);
    continue;
  }
  const it = suite(`Instance JSON limits on ${python}`);
  it.after.each(cleanUp);

  it('send() of NaN or Infinity raises in the child and sends nothing; the exchange goes on', timed(10_000, async () => {
    const py = await track(Instance.python(`
from polytask_child import parent
parent.send(1)
for bad in (float('nan'), {'a': [float('inf')]}):
    try:
        parent.send(bad)
    except ValueError as e:
        parent.send('refused: %s' % e)
parent.send(2)
`, { interpreter: python }));
    assert.is(await py.recv(), 1);
    for (let i = 0; i < 2; i++) assert.match(String(await py.recv()), /^refused: parent\.send\(\): the value cannot be sent as JSON/);
    assert.is(await py.recv(), 2);
    assert.equal(await py.wait(), { code: 0, signal: null });
  }));

  it('a NaN left uncaught ends the child with its traceback; every value before it arrives (3 runs)', timed(20_000, async () => {
    for (let run = 0; run < 3; run++) {
      const err: string[] = [];
      const py = await track(Instance.python('from polytask_child import parent\nparent.send(1)\nparent.send(2)\nparent.send(3)\nparent.send(float("nan"))\n', { interpreter: python, onStderrLine: (line) => err.push(line) }));
      assert.equal([await py.recv(), await py.recv(), await py.recv()], [1, 2, 3], `run ${run}`);
      assert.instance(await rejection(py.recv()), EndpointClosedError);
      assert.equal(await py.wait(), { code: 1, signal: null });
      assert.match(err.join('\n'), 'ValueError: parent.send(): the value cannot be sent as JSON');
    }
  }));

  it('a bad frame written in the same write as good ones: the good ones before it are delivered', timed(10_000, async () => {
    // three frames in one write: 1, "two", then NaN (which JSON.parse refuses)
    const py = await track(Instance.python(`
import os, struct
def frame(text):
    return struct.pack('>I', len(text)) + text
os.write(4, frame(b'1') + frame(b'"two"') + frame(b'NaN') + frame(b'4'))
import time
time.sleep(30)
`, { interpreter: python }));
    assert.is(await py.recv(), 1);
    assert.is(await py.recv(), 'two');
    const error = await rejection(py.recv());
    assert.instance(error, EndpointClosedError);
    assert.match(error.message, 'the child sent a frame that is not JSON');
    assert.equal((await py.wait()).signal, 'SIGKILL');
  }));

  it.run();
}

const it = suite('Instance JSON limits on node');
it.after.each(cleanUp);

it('NaN and Infinity, nested or not, are refused by send() on both sides', timed(10_000, async () => {
  const js = await track(Instance.node(`
    import { parent } from 'polytask/child';
    for (const bad of [NaN, { a: [Infinity] }]) {
      try { parent.send(bad); } catch (e) { parent.send('refused: ' + e.name); }
    }
    parent.send({ fine: null });
  `));
  assert.equal([await js.recv(), await js.recv(), await js.recv()], ['refused: OptionError', 'refused: OptionError', { fine: null }]);
  assert.throws(() => js.send({ a: [-Infinity] }), (e: unknown) => e instanceof OptionError && /JSON cannot carry/.test((e as Error).message));
  assert.throws(() => js.send(NaN), (e: unknown) => e instanceof OptionError);
  await js.wait();
}));

it.run();
