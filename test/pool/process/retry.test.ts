import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ItemResult, ProcessPool } from '../../../src/pool/process/pool.js';
import { resultOf } from '../../../src/pool/items.js';
import { parseRetryOn, RetryPolicy } from '../../../src/pool/retry.js';
import { OptionError } from '../../../src/errors.js';
import { timed } from '../../helpers.js';
import { availableRuntimes, makePool, type Runtime } from '../../runtimes.js';

test('the policy: which failures, how many times, and a delay that doubles', () => {
  const policy = new RetryPolicy({ retries: 3, retryDelay: 50 });
  assert.equal([0, 1, 2, 3].map((n) => policy.delayFor('crash', n)), [50, 100, 200, undefined]);
  assert.is(policy.delayFor('timeout', 0), 50);
  assert.is(policy.delayFor('error', 0), undefined, 'errors are retried only when asked');
  assert.is(policy.onError, false);
  const withErrors = new RetryPolicy({ retries: 1, retryOn: ['error'] });
  assert.is(withErrors.delayFor('error', 0), 100);
  assert.is(withErrors.delayFor('crash', 0), undefined);
  assert.is(new RetryPolicy({}).delayFor('crash', 0), undefined, 'no retries by default');
});

test('bad retry options are named with their value', () => {
  assert.throws(() => new RetryPolicy({ retries: -1 }), (e: Error) => e instanceof OptionError && e.message.includes('`retries`') && e.message.includes('-1'));
  assert.throws(() => new RetryPolicy({ retryDelay: Number.NaN }), (e: Error) => e.message.includes('`retryDelay`'));
  assert.throws(() => new RetryPolicy({ retryOn: ['crash', 'oops' as 'crash'] }), (e: Error) => e.message.includes('`retryOn`') && e.message.includes('oops'));
  assert.equal(parseRetryOn('crash, error'), ['crash', 'error']);
  assert.throws(() => parseRetryOn('crash,never'), (e: Error) => e.message.includes('--retry-on') && e.message.includes('crash,never'));
});

test.run();

for (const runtime of availableRuntimes()) {
  const it = suite(`retries on ${runtime.name}`);
  const pools: ProcessPool[] = [];
  const pool = (options: Parameters<typeof makePool>[2] = {}) => {
    const p = makePool(runtime as Runtime, 'flaky', { retryDelay: 10, ...options });
    pools.push(p);
    return p;
  };
  it.after.each(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });

  it('a crash is retried: the item succeeds on its third attempt', timed(30_000, async () => {
    const r = await pool({ retries: 2 }).result({ mode: 'crash', until: 3 });
    assert.is(r.exit, 0, JSON.stringify(r));
    assert.is(r.value, 'attempt 3');
    assert.is(r.attempts, 3);
  }));

  it('retries used up: the last failure is the result, with the number of attempts', timed(30_000, async () => {
    const r = await pool({ retries: 1 }).result({ mode: 'crash', until: 9 });
    assert.is(r.error?.name, 'WorkerExitedError');
    assert.is(r.exit, 4);
    assert.is(r.attempts, 2);
  }));

  it('an item error is retried only with retryOn error', timed(30_000, async () => {
    const plain = await pool({ retries: 2 }).result({ mode: 'error', until: 2 });
    assert.is(plain.exit, 1);
    assert.is(plain.attempts, 1);
    const asked = await pool({ retries: 2, retryOn: ['error'] }).result({ mode: 'error', until: 2 });
    assert.is(asked.exit, 0, JSON.stringify(asked));
    assert.is(asked.value, 'attempt 2');
    assert.is(asked.attempts, 2);
  }));

  it('a timeout is retried on a new child', timed(30_000, async () => {
    const r = await pool({ retries: 1, timeout: 1000 }).result({ mode: 'hang', until: 2 });
    assert.is(r.exit, 0, JSON.stringify(r));
    assert.is(r.value, 'attempt 2');
    assert.is(r.timedOut, undefined);
    const stats = pools[0]!.stats();
    assert.is(stats.retried, 1);
    assert.is(stats.timedOut, 0, 'the final result did not time out');
  }));

  it('the wait before each retry doubles', timed(30_000, async () => {
    const started = Date.now();
    const r = await pool({ retries: 2, retryDelay: 300 }).result({ mode: 'crash', until: 3 });
    assert.is(r.attempts, 3);
    // 300 ms, then 600 ms: a lower bound, whatever the speed of the machine
    assert.ok(Date.now() - started >= 900, `retried after ${Date.now() - started} ms`);
  }));

  it('crashes among 300 items: every item gets exactly one result, each after one retry at most', timed(60_000, async () => {
    const p = pool({ retries: 1 });
    const items = Array.from({ length: 300 }, (_, i) => ({ mode: i % 25 === 7 ? 'crash' : 'none', until: 2, i }));
    const counts = new Map<number, number>();
    const results = await Promise.all(items.map((item) => new Promise<ItemResult>((resolve) => p.submit(item, {
      resolve: (r) => {
        counts.set(item.i, (counts.get(item.i) ?? 0) + 1);
        resolve(r);
      },
      reject: (error) => {
        counts.set(item.i, (counts.get(item.i) ?? 0) + 1);
        resolve(resultOf(error));
      },
    }))));
    assert.is(counts.size, 300);
    assert.ok([...counts.values()].every((n) => n === 1));
    assert.ok(results.every((r) => r.exit === 0), JSON.stringify(results.find((r) => r.exit !== 0)));
    // a crashing item succeeds on a later attempt: its second, or a later one when it was also
    // queued on a child that another item crashed
    const crashed = results.filter((_, i) => i % 25 === 7);
    assert.ok(crashed.every((r) => r.attempts! >= 2 && r.value === `attempt ${r.attempts}`), JSON.stringify(crashed));
  }));

  it('closing the pool while a retry waits answers the item with its failure', timed(30_000, async () => {
    const p = pool({ retries: 3, retryDelay: 60_000 });
    const result = p.result({ mode: 'crash', until: 9 });
    while (p.stats().retried === 0) await new Promise((r) => setTimeout(r, 20));
    await p.close();
    const r = await result;
    assert.is(r.error?.name, 'WorkerExitedError');
    assert.is(r.attempts, 1);
  }));

  it('a cancel reaches an item waiting for its retry', timed(30_000, async () => {
    const p = pool({ retries: 3, retryDelay: 60_000 });
    const cancel = new AbortController();
    const result = p.result({ mode: 'crash', until: 9 }, { signal: cancel.signal });
    while (p.stats().retried === 0) await new Promise((r) => setTimeout(r, 20));
    cancel.abort();
    const r = await result;
    assert.is(r.cancelled, true);
    assert.is(p.size, 0);
  }));

  it.run();
}
