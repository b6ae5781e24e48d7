import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ItemResult, ProcessPool } from '../../../src/pool/process/pool.js';
import { Histogram, sampleProcess } from '../../../src/pool/process/stats.js';
import { timed } from '../../helpers.js';
import { availableRuntimes, makePool, type Runtime } from '../../runtimes.js';

test('the histogram gives quantiles within a few per cent, in constant memory', () => {
  const h = new Histogram();
  // 1..1000 ms, once each
  for (let ms = 1; ms <= 1000; ms++) h.add(ms);
  const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) / expected < 0.05, `${actual} is not within 5% of ${expected}`);
  near(h.quantile(0.5), 500);
  near(h.quantile(0.99), 990);
  assert.is(h.max, 1000);
  const tiny = new Histogram();
  tiny.add(0.0004);
  tiny.add(0.002);
  assert.ok(tiny.quantile(1) <= 0.002 + 1e-9, 'never above the largest sample');
  assert.is(new Histogram().quantile(0.5), 0, 'no samples: 0');
  const long = new Histogram();
  long.add(3 * 3_600_000);
  near(long.quantile(0.5), 3 * 3_600_000);
});

test('sampleProcess reads this process\'s CPU time and memory, and nothing for a pid that does not exist', () => {
  const sample = sampleProcess(process.pid);
  if (sample === undefined) {
    console.log('skip: /proc is not readable here');
    return;
  }
  assert.ok(sample.cpuSeconds > 0);
  assert.ok(sample.rssMb > 1 && sample.peakRssMb >= sample.rssMb);
  assert.is(sampleProcess(2 ** 22 + 12345), undefined);
});

test.run();

for (const runtime of availableRuntimes()) {
  const it = suite(`stats and recycling on ${runtime.name}`);
  const pools: ProcessPool[] = [];
  const pool = (handler: 'identity' | 'fails' | 'leaky', options: Parameters<typeof makePool>[2] = {}) => {
    const p = makePool(runtime as Runtime, handler, options);
    pools.push(p);
    return p;
  };
  it.after.each(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });

  it('counts items and failures; latency and each child\'s CPU time and peak memory', timed(30_000, async () => {
    const ok = pool('identity');
    await Promise.all(Array.from({ length: 200 }, (_, i) => ok.result(`item ${i}`)));
    const stats = ok.stats();
    assert.is(stats.done, 200);
    assert.is(stats.failed, 0);
    assert.is(stats.workers.length, 2);
    assert.is(stats.workers.reduce((n, w) => n + w.items, 0), 200);
    assert.ok(stats.latency.p50 > 0 && stats.latency.p50 <= stats.latency.p99 && stats.latency.p99 <= stats.latency.max);
    for (const w of stats.workers) {
      assert.is(typeof w.pid, 'number');
      assert.is(w.restarts, 0);
      assert.ok(w.peakRssMb > 1, `child ${w.id} has a peak RSS`);
    }
    // CPU time comes in 10 ms ticks: a quick child may not have used a whole one, two together have
    assert.ok(stats.workers.reduce((t, w) => t + w.cpuSeconds, 0) > 0, 'the children used some CPU');
    const bad = pool('fails');
    await Promise.all([bad.result(1), bad.result(2)]);
    assert.is(bad.stats().failed, 2);
  }));

  it('maxTasksPerWorker: a child is replaced after its quota, between items, and no item fails', timed(30_000, async () => {
    const p = pool('leaky', { processes: 1, maxTasksPerWorker: 5 });
    const results: ItemResult[] = await Promise.all(Array.from({ length: 20 }, () => p.result({ mb: 0, ms: 1 })));
    assert.ok(results.every((r) => r.exit === 0), JSON.stringify(results.find((r) => r.exit !== 0)));
    const perPid = new Map<unknown, number>();
    for (const r of results) perPid.set(r.value, (perPid.get(r.value) ?? 0) + 1);
    assert.is(perPid.size, 4, 'four children of five items each');
    assert.ok([...perPid.values()].every((n) => n === 5));
    // the fourth child is replaced too once it has run its five: a fresh one waits for more
    const stats = p.stats();
    assert.is(stats.recycled, 4);
    assert.is(stats.workers[0]!.restarts, 4);
    assert.is(stats.crashes, 0);
  }));

  it('maxMemoryMb: a leaking child is replaced between items before it grows far past the limit', timed(60_000, async () => {
    const limit = (runtime.name === 'node' ? 60 : 20) + 60;
    const p = pool('leaky', { processes: 1, maxMemoryMb: limit });
    const results: ItemResult[] = [];
    // one item at a time, so that each sample sees the memory of the items before it
    for (let i = 0; i < 24; i++) results.push(await p.result({ mb: 10, ms: 60 }));
    assert.ok(results.every((r) => r.exit === 0), JSON.stringify(results.find((r) => r.exit !== 0)));
    assert.ok(new Set(results.map((r) => r.value)).size > 1, 'the child was replaced');
    const stats = p.stats();
    assert.ok(stats.recycled >= 1);
    // memory is read as results come (every 20 ms at most): few 10 MB items run past the ceiling
    assert.ok(stats.workers[0]!.peakRssMb < limit + 60, `peak ${stats.workers[0]!.peakRssMb} MB with a limit of ${limit} MB`);
  }));

  it.run();
}
