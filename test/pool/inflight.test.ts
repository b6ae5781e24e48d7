import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InflightCalls } from '../../src/pool/inflight.js';
import { newCall, type Call } from '../../src/pool/call.js';

const call = (id: number): Call => newCall(id, String(id), () => {}, undefined, undefined);

test('answers in any order find their call; the oldest is the first unanswered', () => {
  const inflight = new InflightCalls();
  const calls = [call(10), call(11), call(12), call(13)];
  const wire = calls.map((c) => inflight.add(c));
  assert.equal(new Set(wire).size, 4, 'each call has its own number');
  assert.is(inflight.size, 4);
  assert.is(inflight.take(wire[2]!), calls[2]);
  assert.is(inflight.take(wire[2]!), undefined, 'a second answer for the same number finds nothing');
  assert.is(inflight.oldest()?.call, calls[0]);
  assert.is(inflight.take(wire[0]!), calls[0]);
  assert.equal(inflight.oldest(), { call: calls[1], wireId: wire[1] }, 'the oldest skips the answered ones');
  assert.is(inflight.get(wire[3]!), calls[3], 'get leaves the call in flight');
  assert.equal(inflight.values(), [calls[1], calls[3]]);
  assert.is(inflight.size, 2);
});

test('numbers are never reused: an answer from before a clear() or for an unknown number finds nothing', () => {
  const inflight = new InflightCalls();
  const first = inflight.add(call(1));
  inflight.clear();
  assert.is(inflight.size, 0);
  assert.is(inflight.oldest(), undefined);
  const second = inflight.add(call(2));
  assert.ok(second > first);
  assert.is(inflight.take(first), undefined);
  assert.is(inflight.take(second + 5), undefined);
  assert.is(inflight.take(0), undefined);
  // emptied by answers, then refilled: the numbering still goes up
  assert.is(inflight.take(second)?.id, 2);
  assert.ok(inflight.add(call(3)) > second);
});

test('a long run with one straggler: the answered front is dropped, the straggler and the rest stay reachable', () => {
  const inflight = new InflightCalls();
  const straggler = call(0);
  const stragglerWire = inflight.add(straggler);
  const live: [number, Call][] = [];
  for (let i = 1; i <= 10_000; i++) {
    const c = call(i);
    live.push([inflight.add(c), c]);
    // answer all but the last 100, in order, keeping the straggler in flight
    if (live.length > 100) {
      const [wire, expected] = live.shift()!;
      assert.is(inflight.take(wire), expected);
    }
  }
  assert.is(inflight.size, 101);
  assert.is(inflight.oldest()?.call, straggler);
  assert.is(inflight.take(stragglerWire), straggler);
  // with the straggler gone the front is cut: the rest keep their numbers
  for (const [wire, c] of live) assert.is(inflight.get(wire), c);
  assert.is(inflight.oldest()?.call, live[0]![1]);
  for (const [wire, c] of live.reverse()) assert.is(inflight.take(wire), c);
  assert.is(inflight.size, 0);
  assert.equal(inflight.values(), []);
});

test.run();
