import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InOrder } from '../../src/job/stream.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('results leave in input order, each as soon as all before it have', () => {
  const order = new InOrder<string>();
  const out: string[] = [];
  order.add(2, 'c', out);
  order.add(1, 'b', out);
  assert.equal(out, []);
  order.add(0, 'a', out);
  assert.equal(out, ['a', 'b', 'c']);
  order.add(3, 'd', out);
  assert.equal(out, ['a', 'b', 'c', 'd']);
});

test('a window that never empties over a long run (the front is cut as it goes)', () => {
  const order = new InOrder<number>();
  const out: number[] = [];
  // odd results run two places ahead of the even ones: 1, 3, 0, 5, 2, 7, 4, ...
  const n = 10_000;
  const arrival = [1];
  for (let k = 0; 2 * k < n; k++) {
    if (2 * k + 3 < n) arrival.push(2 * k + 3);
    arrival.push(2 * k);
  }
  assert.equal([...arrival].sort((a, b) => a - b), range(n));
  let neverEmpty = true;
  for (const [step, index] of arrival.entries()) {
    order.add(index, index, out);
    // fewer out than added: some result is waiting
    if (step < arrival.length - 1 && out.length === step + 1) neverEmpty = false;
  }
  assert.ok(neverEmpty, 'some result waited at every step');
  assert.equal(out, range(n));
});

test('one straggler holds thousands back, then lets them all out; values may be undefined', () => {
  const order = new InOrder<number | undefined>();
  const out: (number | undefined)[] = [];
  for (let i = 5000; i >= 1; i--) order.add(i, i % 7 === 0 ? undefined : i, out);
  assert.equal(out, []);
  order.add(0, 0, out);
  assert.equal(out, range(5001).map((i) => (i % 7 === 0 && i > 0 ? undefined : i)));
});

test.run();
