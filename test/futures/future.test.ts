import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { Future } from '../../src/futures/future.js';
import { AbortError, CancelledError, InvalidStateError } from '../../src/errors.js';
import { repoRoot } from '../helpers.js';

test('states follow concurrent.futures: pending, running, finished', async () => {
  const f = new Future<number>([1, 'a']);
  assert.equal(f.args, [1, 'a']);
  assert.is(f.state, 'pending');
  assert.not.ok(f.done());
  assert.throws(() => f.result(), (e: Error) => e instanceof InvalidStateError);
  assert.throws(() => f.exception(), (e: Error) => e instanceof InvalidStateError);
  f.setRunning();
  assert.ok(f.running());
  f.setResult(5);
  assert.ok(f.done());
  assert.is(f.result(), 5);
  assert.is(f.exception(), undefined);
  assert.is(await f, 5);
  assert.equal(await Promise.all([f, Promise.resolve(1)]), [5, 1]);
});

test('a failed future throws its error from result() and rejects when awaited', async () => {
  const f = new Future([]);
  const error = new RangeError('no');
  f.setException(error);
  assert.is(f.exception(), error);
  assert.throws(() => f.result(), (e: Error) => e === error);
  try {
    await f;
    assert.unreachable();
  } catch (e) {
    assert.is(e, error);
  }
});

test('cancel: a done future cannot be cancelled; a cancelled one throws CancelledError', async () => {
  const done = new Future([]);
  done.setResult(1);
  assert.not.ok(done.cancel());
  const f = new Future([]);
  assert.ok(f.cancel());
  assert.ok(f.cancelled());
  assert.ok(f.signal.aborted, 'a signal made after the cancel is aborted');
  assert.instance(f.signal.reason, CancelledError);
  const g = new Future([]);
  const { signal } = g;
  const heard: string[] = [];
  const off = g.onAbort(() => heard.push(`a ${String(signal.aborted)}`));
  g.onAbort(() => heard.push('b'));
  off();
  g.cancel();
  g.onAbort(() => heard.push('late'));
  assert.ok(signal.aborted, 'a signal made before the cancel is aborted by it');
  assert.equal(heard, ['b', 'late']);
  assert.throws(() => f.result(), (e: Error) => e instanceof CancelledError);
  f.setResult(2);
  assert.ok(f.cancelled(), 'a result after cancel is ignored');
  assert.is(await Promise.race([f.then(() => 'ok', (e: unknown) => (e as Error).name)]), 'CancelledError');
});

test('cancel(reason): the CancelledError is an AbortError, the reason its cause and the signal\'s reason\'s cause', async () => {
  const f = new Future([]);
  f.cancel('no longer needed');
  assert.throws(() => f.exception(), (e: Error) => e instanceof CancelledError && e instanceof AbortError && e.cause === 'no longer needed');
  assert.is((f.signal.reason as Error).cause, 'no longer needed');
  assert.is(await f.then(() => undefined, (e: unknown) => (e as Error).cause), 'no longer needed');
  const plain = new Future([]);
  plain.cancel();
  assert.not.ok('cause' in (await plain.then(() => new Error('resolved'), (e: unknown) => e as Error)), 'no reason, no cause');
});

test('awaited while pending: the awaiters get the outcome when it comes, as do later ones', async () => {
  const ok = new Future<number>([]);
  const early = [ok.then((v) => v * 2), ok.finally(() => {})];
  ok.setResult(21);
  assert.equal(await Promise.all(early), [42, 21]);
  assert.is(await ok, 21);
  const failing = new Future([]);
  const caught = failing.catch((e: unknown) => (e as Error).message);
  const error = new Error('late failure');
  failing.setException(error);
  assert.is(await caught, 'late failure');
  assert.is(await failing.then(() => 'no', (e: unknown) => e), error);
  const cancelled = new Future([]);
  const waiting = cancelled.then(() => 'no', (e: unknown) => (e as Error).name);
  cancelled.cancel();
  assert.is(await waiting, 'CancelledError');
});

test('an unobserved failed future does not crash the process', () => {
  const script = `
    import { Future } from './dist/src/futures/future.js';
    const f = new Future([]);
    f.setException(new Error('later'));
    setTimeout(() => { console.log('read:', f.exception().message); }, 50);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 10_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'read: later');
});

test.run();
