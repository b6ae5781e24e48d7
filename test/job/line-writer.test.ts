import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bin, fixture, timed, waitUntil } from '../helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'polytask-output-'));

function childrenOf(pid: number): number[] {
  return spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
}

// Writes to a pipe are queued: exiting with results still queued would drop them
test('every result reaches a reader of stdout that is behind when the run ends', timed(60_000, async () => {
  // about 200 KB of results, one at a time: more than a pipe holds, and never enough queued
  // at once to make the run wait for the reader
  const count = 100;
  const data = path.join(dir, 'wide.jsonl');
  writeFileSync(data, Array.from({ length: count }, (_, i) => JSON.stringify(`${i}:${'x'.repeat(1000)}`)).join('\n') + '\n');
  const child = spawn(process.execPath, [bin, 'run', '-s', fixture('specs/node.json'), '--handler', 'identity', '-d', data, '-p', '1', '--pipeline', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) lines++;
  });
  // read nothing until every item is done and the children are gone
  child.stdout.pause();
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await waitUntil(() => childrenOf(child.pid!).length === 1, 10_000, 'the child');
    await waitUntil(() => childrenOf(child.pid!).length === 0, 30_000, 'the child to end');
    await new Promise((r) => setTimeout(r, 300));
    child.stdout.resume();
    assert.is(await closed, 0);
    assert.is(lines, count);
  } finally {
    child.kill('SIGKILL');
  }
}));

test.run();
