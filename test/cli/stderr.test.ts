import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { bin, scratch, timed } from '../helpers.js';

const { write } = scratch('stderr');
// a handler that writes to stderr as it loads (forwarded to polytask's stderr), and whose
// item "fail" fails (so the run ends with a message on stderr and status 1)
const spec = write('noisy.json', JSON.stringify({
  exec_type: 'node',
  exec_info: { code: 'console.error("loading the handler"); export const main = (e) => { if (e === "fail") throw new Error("no"); return e; };' },
}));

// `polytask run` over `items` with stderr going to `stderr`; resolves with its status and results
function run(items: string[], stderr: 'pipe' | number, onStart?: (child: ReturnType<typeof spawn>) => void) {
  const child = spawn(process.execPath, [bin, 'run', '-s', spec, '-p', '2'], { stdio: ['pipe', 'pipe', stderr] });
  onStart?.(child);
  let stdout = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stdin!.end(items.map((i) => `${JSON.stringify(i)}\n`).join(''));
  return new Promise<{ status: number | null; results: { data: string; exit: number }[] }>((resolve) => child.on('close', (status) => {
    resolve({ status, results: stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { data: string; exit: number }) });
  }));
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `item-${i}`);

test('2>/dev/full: every result is written and the status is what it would have been', timed(30_000, async () => {
  const full = openSync('/dev/full', 'w');
  try {
    const ok = await run(names(3), full);
    assert.is(ok.status, 0);
    assert.equal(ok.results.map((r) => r.data).sort(), names(3));
    // a failed item: the end-of-run message cannot be written either; the status stays 1
    const failed = await run([...names(2), 'fail'], full);
    assert.is(failed.status, 1);
    assert.equal(failed.results.map((r) => [r.data, r.exit]).sort(), [['fail', 1], ['item-0', 0], ['item-1', 0]]);
  } finally {
    closeSync(full);
  }
}));

test('a stderr pipe closed by its reader: every result is written, status 0', timed(60_000, async () => {
  const items = names(3000);
  const r = await run(items, 'pipe', (child) => child.stderr!.destroy());
  assert.is(r.status, 0);
  assert.is(r.results.length, items.length);
  assert.equal(new Set(r.results.map((x) => x.data)).size, items.length);
}));

test.run();
