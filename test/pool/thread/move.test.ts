// move(): buffers go to a worker thread and back without a copy (the sender's is detached);
// a child process and the inline runtime get the values as if they had not been wrapped.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MessageChannel } from 'node:worker_threads';
import { task } from '../../../src/futures/task.js';
import { move } from '../../../src/pool/thread/move.js';
import { timed } from '../../helpers.js';

const it = suite('move()');
const mb64 = 64 * 1024 * 1024;

// A buffer whose every 4096th byte says where it is
function patterned(size: number): ArrayBuffer {
  const buffer = new ArrayBuffer(size);
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096) % 251;
  return buffer;
}

// In the worker: checks the pattern and writes what it found into the buffer (byte 1: 42 if
// intact; byte 2: the label's length; byte 3: the view's last value), then returns the buffer
// moved (inline functions get move() from the worker; only a top-level return is unwrapped)
const check = (buffer: ArrayBuffer, label: string, view: Uint16Array) => {
  const bytes = new Uint8Array(buffer);
  let intact = true;
  for (let i = 0; i < bytes.length; i += 4096) if (bytes[i] !== (i / 4096) % 251) intact = false;
  bytes[1] = intact ? 42 : 13;
  bytes[2] = label.length;
  bytes[3] = view[view.length - 1] ?? 0;
  return move(buffer);
};

it('a moved 64 MB buffer arrives intact, the sender\'s is detached, and it comes back moved', timed(60_000, async () => {
  await using t = task(check, { concurrency: 1 });
  const buffer = patterned(mb64);
  const view = new Uint16Array([1, 2, 3]);
  const back = await t(move(buffer), 'mixed', view);
  assert.is(buffer.byteLength, 0, 'the sender\'s buffer is detached');
  assert.is(view.length, 3, 'an argument not moved is copied: the sender keeps it');
  // the value returned is the buffer itself: move() is unwrapped on the way back
  assert.instance(back, ArrayBuffer);
  assert.is(back.byteLength, mb64);
  assert.equal(Array.from(new Uint8Array(back, 1, 3)), [42, 'mixed'.length, 3]);
}));

it('a typed array moves its whole buffer; a MessagePort moves too', timed(30_000, async () => {
  await using t = task((bytes: Uint8Array, port: import('node:worker_threads').MessagePort) => {
    port.postMessage(bytes.length);
    port.close();
    return bytes[0];
  }, { concurrency: 1 });
  const bytes = new Uint8Array(patterned(1 << 20));
  const { port1, port2 } = new MessageChannel();
  const heard = new Promise((resolve) => port1.once('message', resolve));
  assert.is(await t(move(bytes), move(port2)), 0);
  assert.is(bytes.byteLength, 0, 'the typed array is detached');
  assert.is(await heard, 1 << 20);
  port1.close();
}));

it('a moved argument cannot be sent twice; move() refuses what cannot move', timed(30_000, async () => {
  await using t = task((buffer: ArrayBuffer) => buffer.byteLength, { concurrency: 1 });
  const moved = move(new ArrayBuffer(8));
  assert.is(await t(moved), 8);
  const again = await t(moved).then(() => undefined, (e: unknown) => e as Error);
  assert.instance(again, TypeError);
  assert.match(again!.message, 'argument 1 was moved to a worker already');
  assert.throws(() => move({} as ArrayBuffer), (e: Error) => e instanceof TypeError && e.message === 'move() takes an ArrayBuffer, a typed array, a DataView or a MessagePort; got an instance of Object');
}));

for (const runtime of ['process', 'inline'] as const) {
  it(`${runtime} runtime: a moved argument arrives as a copy, the sender keeps it, and a moved return is unwrapped`, timed(30_000, async () => {
    await using t = task(check, { concurrency: 1, runtime });
    const buffer = patterned(1 << 20);
    const back = await t(move(buffer), 'copied', new Uint16Array([4]));
    assert.instance(back, ArrayBuffer);
    assert.equal(Array.from(new Uint8Array(back, 1, 3)), [42, 'copied'.length, 4]);
    if (runtime === 'process') assert.is(buffer.byteLength, 1 << 20, 'a child process gets a copy: the sender keeps it');
  }));
}

it.run();
