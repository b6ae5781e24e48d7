import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { formatStats } from '../../src/cli/stats.js';
import { readFileSync } from 'node:fs';
import { bin, fixture, scratch, timed } from '../helpers.js';

test('--stats prints counts, latency and each child on stderr; stdout keeps only results', timed(30_000, async () => {
  const input = Array.from({ length: 50 }, (_, i) => `"item ${i}"`).join('\n');
  const r = spawnSync(process.execPath, [bin, 'run', '-s', fixture('specs/node.json'), '-p', '2', '--stats'], { input, encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.is(lines.length, 50);
  for (const line of lines) assert.is(typeof (JSON.parse(line) as { line: number }).line, 'number');
  assert.match(r.stderr, /polytask: stats: 50 items in [\d.]+ s \(\d+ items\/s\), 0 failed, 0 retries, 0 timed out, 0 child crashes, 0 children recycled/);
  assert.match(r.stderr, /item latency p50 [\d.]+ ms, p99 [\d.]+ ms/);
  assert.match(r.stderr, /child 0: \d+ items, [\d.]+ s CPU, peak RSS [\d.]+ MB, 0 restarts/);
  assert.match(r.stderr, /child 1: /);
  const quiet = spawnSync(process.execPath, [bin, 'run', '-s', fixture('specs/node.json')], { input: '"a"', encoding: 'utf8', timeout: 30_000 });
  assert.not.match(quiet.stderr, 'stats');
}));

test('--stats-file writes the same figures as JSON, and nothing on stderr', timed(30_000, async () => {
  const dir = scratch('stats-file');
  const file = `${dir.dir}/stats.json`;
  const input = Array.from({ length: 20 }, (_, i) => `"item ${i}"`).join('\n');
  const r = spawnSync(process.execPath, [bin, 'run', '-s', fixture('specs/node.json'), '-p', '2', '--stats-file', file], { input, encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stderr, 'stats');
  const figures = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { workers: { items: number }[] };
  assert.equal(Object.keys(figures), ['elapsedSeconds', 'itemsPerSecond', 'done', 'failed', 'retried', 'timedOut', 'crashes', 'recycled', 'latency', 'workers']);
  assert.is(figures.done, 20);
  assert.is(figures.failed, 0);
  assert.ok((figures.elapsedSeconds as number) > 0);
  assert.is(figures.workers.length, 2);
  assert.is(figures.workers.reduce((sum, w) => sum + w.items, 0), 20);
}));

test('formatStats: one line of counts, one of latency, one per child', () => {
  const text = formatStats({
    done: 10, failed: 1, retried: 2, timedOut: 1, crashes: 1, recycled: 0,
    latency: { p50: 1.5, p99: 9, max: 12 },
    workers: [{ id: 0, pid: 42, items: 10, restarts: 1, cpuSeconds: 0.5, peakRssMb: 30.25 }],
  }, 2000);
  assert.equal(text.trimEnd().split('\n'), [
    'polytask: stats: 10 items in 2.00 s (5 items/s), 1 failed, 2 retries, 1 timed out, 1 child crashes, 0 children recycled',
    'polytask: stats: item latency p50 1.5 ms, p99 9 ms, max 12 ms (from sending to the child to its result)',
    'polytask: stats: child 0: 10 items, 0.50 s CPU, peak RSS 30.3 MB, 1 restarts',
  ]);
});

test.run();
