import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { task } from '../../src/futures/task.js';
import { waitFor } from '../../src/futures/wait.js';
import type { Future } from '../../src/futures/future.js';
import { OptionError } from '../../src/errors.js';
import { timed } from '../helpers.js';

const sleepy = task(async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
}, { concurrency: 3 });

test.after(async () => {
  await sleepy.close();
});

test('yields each future as it completes and empties the list in place', timed(20_000, async () => {
  const inFlight = [300, 100, 200].map((ms) => sleepy(ms));
  const seen: number[] = [];
  // without a concurrency, f is typed DoneFuture<number>: no `!` (this file compiles under strict)
  for await (const f of waitFor(inFlight)) {
    const value: number = f.result();
    seen.push(value);
    assert.is(inFlight.some((g) => g.id === f.id), false);
  }
  assert.equal(seen, [100, 200, 300]);
  assert.is(inFlight.length, 0);
}));

test('the inparallel example: 12 hosts, concurrency 3, never more than 3 in flight', timed(30_000, async () => {
  const hosts = Array.from({ length: 12 }, (_, i) => `host${i}.local`);
  const getOS = task((host: string) => `Linux on ${host}`, { concurrency: 3 });
  const inFlight: Future<string>[] = [];
  const results: string[] = [];
  let maxInFlight = 0;
  for await (const f of waitFor(inFlight, 3)) {
    if (f === undefined) {
      const host = hosts.shift();
      if (host !== undefined) inFlight.push(getOS(host));
      maxInFlight = Math.max(maxInFlight, inFlight.length);
    } else {
      results.push(f.result());
    }
  }
  await getOS.close();
  assert.is(results.length, 12);
  assert.ok(maxInFlight <= 3, `at most 3 in flight, saw ${maxInFlight}`);
  assert.equal(results.sort(), Array.from({ length: 12 }, (_, i) => `Linux on host${i}.local`).sort());
}));

test('asks once more when nothing is in flight, and ends if nothing is added', timed(10_000, async () => {
  const inFlight: Future<number>[] = [];
  let asks = 0;
  for await (const f of waitFor(inFlight, 2)) {
    assert.is(f, undefined);
    asks++;
  }
  assert.is(asks, 1);
}));

test('a failed future is yielded, not thrown', timed(20_000, async () => {
  const boom = task((x: number) => {
    if (x === 2) throw new TypeError('two');
    return x;
  }, { concurrency: 2 });
  const inFlight = [1, 2, 3].map((x) => boom(x));
  const errors: string[] = [];
  for await (const f of waitFor(inFlight)) if (f!.exception()) errors.push(f!.exception()!.message);
  await boom.close();
  assert.equal(errors, ['two']);
}));

test('a future listed twice is yielded once, and both entries are removed', timed(10_000, async () => {
  const f = sleepy(50);
  const g = sleepy(150);
  const inFlight = [f, g, f];
  const seen: number[] = [];
  for await (const done of waitFor(inFlight)) seen.push(done!.id);
  assert.equal(seen, [f.id, g.id]);
  assert.is(inFlight.length, 0);
}));

test('a future listed twice under a concurrency, and one put back after it was yielded', timed(10_000, async () => {
  const f = sleepy(20);
  const inFlight: Future<number>[] = [f, f];
  const seen: (number | undefined)[] = [];
  let putBack = false;
  for await (const done of waitFor(inFlight, 4)) {
    seen.push(done?.id);
    if (done !== undefined && !putBack) {
      putBack = true;
      inFlight.push(f);
    }
  }
  // f, then f again (it was put back), then the last ask
  assert.equal(seen.filter((id) => id !== undefined), [f.id, f.id]);
  assert.is(inFlight.length, 0);
}));

test('a bad concurrency is refused', () => {
  assert.throws(() => waitFor([], 0), (e: Error) => e instanceof OptionError && e.message.includes('got `0`'));
});

test.run();
