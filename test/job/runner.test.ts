import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JobRunner, type JobResult } from '../../src/job/runner.js';
import { AbortError, OptionError, SetupError } from '../../src/errors.js';
import { fixture, isAlive, timed } from '../helpers.js';

const nodeSpec = (handler: string) => ({ exec_type: 'node' as const, exec_info: { code: { type: 'path' as const, data: fixture('node/handlers.mjs') }, handler } });
const quiet = { onWorkerOutput: () => {} };

async function collect<T>(runner: JobRunner<T>): Promise<JobResult<T>[]> {
  const out: JobResult<T>[] = [];
  for await (const r of runner.run()) out.push(r);
  return out;
}

test('setup then run gives one result per item with the item as data', timed(20_000, async () => {
  const runner = new JobRunner(nodeSpec('double'), [1, 2, 3], { processes: 2, ...quiet });
  const [ok, err] = await runner.setup();
  assert.is(ok, true);
  assert.is(err, null);
  const results = await collect(runner);
  assert.equal(results.map((r) => [r.data, r.value, r.index]).sort(), [[1, 2, 0], [2, 4, 1], [3, 6, 2]]);
}));

test('setup reports a failing setup hook with the child\'s error, without throwing', timed(20_000, async () => {
  const runner = new JobRunner({ exec_type: 'node', exec_info: { code: { type: 'path', data: fixture('node/setup_fails.mjs') }, setup_hook: 'setup' } }, [1], { processes: 2, ...quiet });
  const [ok, err] = await runner.setup();
  assert.is(ok, false);
  assert.instance(err, SetupError);
  assert.match(err!.message, 'setup exploded');
  await runner.close();
}));

test('ordered: true gives input order even when later items finish first', timed(20_000, async () => {
  const items = [300, 10, 200, 5, 100, 1];
  const runner = new JobRunner(nodeSpec('sleepy'), items, { processes: 2, ordered: true, pipeline: 3, ...quiet });
  const results = await collect(runner);
  assert.equal(results.map((r) => r.data), items);
  assert.equal(results.map((r) => r.index), [0, 1, 2, 3, 4, 5]);
}));

test('ordered: true over thousands of items that keep finishing out of order', timed(30_000, async () => {
  // every fourth item sleeps: results keep arriving ahead of their turn all through the run
  const items = Array.from({ length: 3000 }, (_, i) => (i % 4 === 0 ? 2 : 0));
  const runner = new JobRunner(nodeSpec('sleepy'), items, { processes: 2, ordered: true, pipeline: 8, ...quiet });
  const results = await collect(runner);
  assert.is(results.length, items.length);
  assert.ok(results.every((r, i) => r.index === i && r.data === items[i]), 'every result in input order');
}));

test('completion order is the default', timed(20_000, async () => {
  const runner = new JobRunner(nodeSpec('sleepy'), [400, 1], { processes: 1, pipeline: 2, ...quiet });
  const results = await collect(runner);
  assert.equal(results.map((r) => r.data), [1, 400]);
}));

test('an async iterable input is read lazily: never far ahead of the results', timed(30_000, async () => {
  let pulled = 0;
  async function* numbers() {
    for (let i = 0; i < 100_000; i++) {
      pulled++;
      yield i;
    }
  }
  const runner = new JobRunner(nodeSpec('identity'), numbers(), { processes: 2, ...quiet });
  let seen = 0;
  let maxAhead = 0;
  for await (const r of runner.run()) {
    seen++;
    maxAhead = Math.max(maxAhead, pulled - seen);
    assert.is(r.value, r.data);
  }
  assert.is(seen, 100_000);
  // two children with at most 256 in flight each: at most twice that outstanding, plus the
  // batch being handed out
  assert.ok(maxAhead <= 2 * (2 * 2 * 256) + 1, `read ${maxAhead} items ahead`);
}));

test('leaving the loop early ends the children', timed(20_000, async () => {
  const runner = new JobRunner(nodeSpec('sleepy'), Array.from({ length: 50 }, () => 50), { processes: 2, ...quiet });
  let pids: number[] = [];
  for await (const r of runner.run()) {
    assert.is(r.exit, 50);
    pids = runner.pool.pids();
    break;
  }
  assert.is(pids.length, 2);
  for (const pid of pids) assert.not.ok(isAlive(pid), `child ${pid} is gone`);
}));

test('an AbortSignal stops the run with an AbortError and ends the children', timed(20_000, async () => {
  const controller = new AbortController();
  const runner = new JobRunner(nodeSpec('sleepy'), Array.from({ length: 50 }, () => 100), { processes: 2, signal: controller.signal, ...quiet });
  await runner.setup();
  const pids = runner.pool.pids();
  setTimeout(() => controller.abort('enough'), 150);
  try {
    await collect(runner);
    assert.unreachable('run should reject');
  } catch (error) {
    assert.instance(error, AbortError);
    assert.is((error as Error).cause, 'enough', "the cause is the signal's reason");
  }
  for (const pid of pids) assert.not.ok(isAlive(pid), `child ${pid} is gone`);
}));

test('an input that throws ends the run with that error', timed(20_000, async () => {
  function* broken() {
    yield 1;
    throw new Error('input broke');
  }
  const runner = new JobRunner(nodeSpec('identity'), broken(), { processes: 1, ...quiet });
  try {
    await collect(runner);
    assert.unreachable('run should reject');
  } catch (error) {
    assert.is((error as Error).message, 'input broke');
  }
}));

test('an item that is not JSON gets a SerializationError result', timed(20_000, async () => {
  const runner = new JobRunner(nodeSpec('identity'), [1, () => 2, 3n], { processes: 1, ...quiet });
  const results = await collect(runner);
  const bad = results.filter((r) => r.error?.name === 'SerializationError');
  assert.is(bad.length, 2);
  assert.ok(bad.every((r) => r.exit === 65));
}));

test('bad options name the option and the value', () => {
  assert.throws(() => new JobRunner(nodeSpec('identity'), [1], { processes: 0 }), (e: Error) => e instanceof OptionError && e.message.includes('`processes` option to be a positive integer, got `0`'));
  assert.throws(() => new JobRunner(nodeSpec('identity'), 5 as unknown as number[]), (e: Error) => e instanceof OptionError && e.message.includes('`items`'));
});

test.run();
