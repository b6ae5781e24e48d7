import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InflightCalls } from '../../../src/pool/process/inflight.js';
import { newCall, type Call } from '../../../src/pool/process/call.js';

const call = (id: number): Call => newCall(id, String(id), () => {}, undefined, undefined, undefined);

test('answers in any order find their call by id; the oldest is the first unanswered', () => {
  const inflight = new InflightCalls();
  const calls = [call(10), call(11), call(12), call(13)];
  for (const c of calls) inflight.add(c);
  assert.is(inflight.size, 4);
  assert.is(inflight.take(12), calls[2]);
  assert.is(inflight.take(12), undefined, 'a second answer for the same id finds nothing');
  assert.is(inflight.oldest(), calls[0]);
  assert.is(inflight.take(10), calls[0]);
  assert.is(inflight.oldest(), calls[1], 'the oldest skips the answered ones');
  assert.is(inflight.get(13), calls[3], 'get leaves the call in flight');
  assert.is(inflight.take(99), undefined);
  assert.equal(inflight.values(), [calls[1], calls[3]]);
  assert.is(inflight.size, 2);
  inflight.clear();
  assert.is(inflight.size, 0);
  assert.is(inflight.oldest(), undefined);
  assert.is(inflight.take(11), undefined, 'nothing is in flight after clear()');
});

test('a call sent again (a retry, with its old id) is found after newer ones', () => {
  const inflight = new InflightCalls();
  const retried = call(3);
  inflight.add(call(7));
  inflight.add(call(8));
  inflight.add(retried);
  assert.is(inflight.take(3), retried);
  assert.equal(inflight.values().map((c) => c.id), [7, 8]);
});

test('one call stuck while thousands are answered: every call in flight stays reachable, in order', () => {
  const inflight = new InflightCalls();
  const stuck = call(0);
  inflight.add(stuck);
  const live: Call[] = [];
  for (let id = 1; id <= 20_000; id++) {
    const c = call(id);
    inflight.add(c);
    live.push(c);
    // the last 100 stay in flight, the stuck one all along; the others are answered in order
    if (live.length > 100) {
      const answered = live.shift()!;
      assert.is(inflight.take(answered.id), answered);
    }
  }
  assert.is(inflight.size, 101);
  assert.is(inflight.oldest(), stuck);
  assert.equal(inflight.values(), [stuck, ...live], 'oldest first, through the squeezes of the holes');
  for (const c of live.reverse()) assert.is(inflight.take(c.id), c);
  assert.is(inflight.take(0), stuck);
  assert.is(inflight.size, 0);
  assert.equal(inflight.values(), []);
});

test.run();
