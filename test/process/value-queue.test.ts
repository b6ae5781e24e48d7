import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ValueQueue } from '../../src/process/value-queue.js';

test('values and readers are served in order, whichever comes first', async () => {
  const queue = new ValueQueue<number>();
  queue.push(1);
  const waiting = [queue.take(), queue.take(), queue.take()];
  assert.is(queue.waiting, 2);
  queue.push(2);
  queue.push(3);
  assert.equal(await Promise.all(waiting), [1, 2, 3]);
  assert.is(queue.waiting, 0);
});

test('end(error): the values pushed before it are still read, then every read rejects with it', async () => {
  const queue = new ValueQueue<string>();
  const waiting = queue.take();
  const gone = new Error('gone');
  queue.push('a');
  queue.push('b');
  queue.end(gone);
  queue.end(new Error('a second end does not count'));
  assert.is(await waiting, 'a');
  assert.is(await queue.take(), 'b');
  assert.is(await queue.take().catch((e: unknown) => e), gone);
  const pending = new ValueQueue<string>();
  const reader = pending.take();
  pending.end(gone);
  assert.is(await reader.catch((e: unknown) => e), gone);
});

test('as an async iterator: the values, then done at end(); break drops the rest', async () => {
  const queue = new ValueQueue<string>();
  const read = (async () => {
    const lines: string[] = [];
    for await (const line of queue) lines.push(line);
    return lines;
  })();
  queue.push('x');
  await new Promise((r) => setImmediate(r));
  queue.push('y');
  queue.end();
  assert.equal(await read, ['x', 'y']);

  const rest = new ValueQueue<number>();
  rest.push(1);
  rest.push(2);
  for await (const value of rest) {
    assert.is(value, 1);
    break;
  }
  assert.equal(await rest.next(), { value: undefined, done: true });
});

test.run();
