import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JobRunner, type JobResult } from '../../src/job/runner.js';
import { SynchronousJob } from '../../src/job/synchronous.js';
import { readResultsLog } from '../../src/job/results-log.js';
import { OptionError, ResumeError } from '../../src/errors.js';
import type { Progress } from '../../src/job/progress.js';
import { fixture, timed } from '../helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'polytask-log-'));
const spec = (handler: string) => ({ exec_type: 'node' as const, exec_info: { code: { type: 'path' as const, data: fixture('node/handlers.mjs') }, handler } });
const quiet = { onWorkerOutput: () => {}, processes: 2 };

async function collect<T>(runner: JobRunner<T>): Promise<JobResult<T>[]> {
  const out: JobResult<T>[] = [];
  for await (const r of runner.run()) out.push(r);
  return out;
}

function logged(file: string): { index: number; data: unknown; value?: unknown; exit?: number }[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { index: number; data: unknown });
}

const words = Array.from({ length: 30 }, (_, i) => `w${i}`);

test('JobRunner: resultsLog gets every result; resume runs only the items not in it', timed(30_000, async () => {
  const file = path.join(dir, 'runner.jsonl');
  const first = await collect(new JobRunner(spec('identity'), words, { ...quiet, resultsLog: file }));
  assert.is(first.length, 30);
  assert.equal(logged(file).map((r) => r.index).sort((a, b) => a - b), words.map((_, i) => i));
  // keep 10 results and a torn 11th, as a kill leaves the file
  const text = readFileSync(file, 'utf8');
  const keep = text.split('\n').slice(0, 10).join('\n').length + 1;
  truncateSync(file, keep + 15);
  const kept = new Set(text.split('\n').slice(0, 10).map((l) => (JSON.parse(l) as { index: number }).index));
  const second = await collect(new JobRunner(spec('identity'), words, { ...quiet, resultsLog: file, resume: true }));
  assert.is(second.length, 20);
  for (const r of second) {
    assert.not.ok(kept.has(r.index), `item ${r.index} ran again`);
    assert.is(r.data, words[r.index]);
  }
  const all = logged(file);
  assert.equal(all.map((r) => r.index).sort((a, b) => a - b), words.map((_, i) => i));
  for (const r of all) assert.is(r.value, words[r.index]);
}));

test('JobRunner: a changed item is a ResumeError naming its index; resume needs resultsLog', timed(30_000, async () => {
  const file = path.join(dir, 'changed.jsonl');
  await collect(new JobRunner(spec('identity'), ['a', 'b', 'c'], { ...quiet, resultsLog: file }));
  const changed = new JobRunner(spec('identity'), (async function* () { yield* ['a', 'B', 'c']; })(), { ...quiet, resultsLog: file, resume: true });
  try {
    await collect(changed);
    assert.unreachable('should throw');
  } catch (error) {
    assert.instance(error, ResumeError);
    assert.match((error as Error).message, 'item 1 differs from the item whose result is in');
  }
  assert.is(logged(file).length, 3);
  assert.throws(() => new JobRunner(spec('identity'), [1], { resume: true }), (e: Error) => e instanceof OptionError && /resultsLog/.test(e.message));
}));

test('JobRunner: onProgress gets done, failed, total and a rate, and a last call at the end', timed(30_000, async () => {
  const file = path.join(dir, 'progress.jsonl');
  writeFileSync(file, '');
  appendFileSync(file, `${JSON.stringify({ index: 0, data: 'crash', exit: 3, stdout: '', stderr: '' })}\n`);
  const seen: Progress[] = [];
  const items = ['crash', ...Array.from({ length: 40 }, () => 20), 'crash'];
  const runner = new JobRunner(spec('faulty'), items, { ...quiet, resultsLog: file, resume: true, onProgress: (p) => seen.push(p), progressInterval: 50 });
  await collect(runner);
  const last = seen.at(-1)!;
  assert.equal([last.done, last.failed, last.skipped, last.total], [42, 2 + 40, 1, 42]);
  for (const p of seen) assert.type(p.itemsPerSecond, 'number');
}));

test('SynchronousJob: resume fills the logged values and runs the rest; failures run again', timed(30_000, async () => {
  const file = path.join(dir, 'sync.jsonl');
  const items = [1, 2, 3, 4, 5, 6];
  const flaky = (n: number) => {
    if (n === 4 && !(globalThis as { retry?: boolean }).retry) throw new RangeError('four');
    return n * 10;
  };
  const first = new SynchronousJob({ func: flaky, items, resultsLog: file, suppressWorkerExceptions: true, logger: () => {} });
  assert.equal(await first.runMultiProcessed(), [10, 20, 30, undefined, 50, 60]);
  assert.equal(logged(file).map((r) => r.index).sort(), [0, 1, 2, 4, 5]);
  const counted = new SynchronousJob({ func: (n: number) => n * 100, items, resultsLog: file, resume: true });
  // logged values come back as they were; only item 3 (4) runs, with the new function
  assert.equal(await counted.runMultiProcessed(), [10, 20, 30, 400, 50, 60]);
  assert.is(logged(file).length, 6);
  await assert.not.throws(() => new SynchronousJob({ func: flaky, items, resultsLog: file }));
  assert.throws(() => new SynchronousJob({ func: flaky, items, resume: true }), (e: Error) => e instanceof OptionError);
}));

// A log whose second line is a second result for index 0: reading it rewrites the file without it
const doubled = [
  { index: 0, data: 'a', exit: 0, value: 'a' },
  { index: 0, data: 'a', exit: 0, value: 'a' },
  { index: 1, data: 'b', exit: 0, value: 'b' },
].map((r) => `${JSON.stringify(r)}\n`).join('');
const repaired = doubled.split('\n').filter((l, i) => i !== 1).join('\n');

test('the resume rewrite keeps the log\'s mode', timed(10_000, async () => {
  const file = path.join(dir, 'private.jsonl');
  writeFileSync(file, doubled);
  chmodSync(file, 0o600);
  const log = await readResultsLog(file, { keyField: 'index' });
  assert.is(log.dropped, 1);
  assert.is(readFileSync(file, 'utf8'), repaired);
  assert.is(statSync(file).mode & 0o777, 0o600);
}));

test('the resume rewrite of a symbolically linked log writes the file linked to; the link stays', timed(10_000, async () => {
  const sub = path.join(dir, 'linked');
  mkdirSync(sub);
  const real = path.join(sub, 'real.jsonl');
  writeFileSync(real, doubled);
  const link = path.join(dir, 'link.jsonl');
  symlinkSync(real, link);
  const log = await readResultsLog(link, { keyField: 'index' });
  assert.is(log.dropped, 1);
  assert.ok(lstatSync(link).isSymbolicLink(), 'still a link');
  assert.is(readlinkSync(link), real);
  assert.is(readFileSync(real, 'utf8'), repaired);
}));

test('the resume rewrite never writes through a file planted at a predictable temporary name', timed(10_000, async () => {
  const sub = path.join(dir, 'planted');
  mkdirSync(sub);
  const file = path.join(sub, 'log.jsonl');
  writeFileSync(file, doubled);
  const victim = path.join(dir, 'victim.txt');
  writeFileSync(victim, 'precious\n');
  // the names the rewrite used to take, and the same with a leading dot
  for (const name of [`log.jsonl.${process.pid}.tmp`, `.log.jsonl.${process.pid}.tmp`]) symlinkSync(victim, path.join(sub, name));
  const before = readdirSync(sub).sort();
  await readResultsLog(file, { keyField: 'index' });
  assert.is(readFileSync(victim, 'utf8'), 'precious\n');
  assert.is(readFileSync(file, 'utf8'), repaired);
  // nothing left behind: the same names as before
  assert.equal(readdirSync(sub).sort(), before);
}));

test.run();
