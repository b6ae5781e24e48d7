import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProgressMeter, type Progress } from '../../src/job/progress.js';
import { timed } from '../helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('counts are reported as they change, and once more on stop', timed(5_000, async () => {
  const reports: Progress[] = [];
  const meter = new ProgressMeter((p) => reports.push(p), { intervalMs: 5, total: 10 }).start();
  meter.add(3, 1);
  await sleep(50);
  meter.skip(2, 0);
  meter.stop();
  const last = reports.at(-1)!;
  assert.equal([last.done, last.failed, last.skipped, last.total], [5, 1, 2, 10]);
  assert.ok(reports.some((p) => p.done === 3 && p.skipped === 0), 'the first counts were reported before the skip');
}));

test('unchanged counts are reported only every 10th tick, also once the rate window is full', timed(10_000, async () => {
  let reports = 0;
  const meter = new ProgressMeter(() => reports++, { intervalMs: 5 }).start();
  // at most 200 ticks (fewer on a busy machine): at most 20 reports, where a report on every
  // tick past the 50-sample window would give many more
  await sleep(1_000);
  meter.stop();
  assert.ok(reports <= 21, `${reports} reports`);
}));

test.run();
