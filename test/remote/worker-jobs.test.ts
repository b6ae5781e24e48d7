// How a worker runs a job as one `lines` block (remote/worker-jobs.ts), on a real pool of Node
// children: a job of input lines that follow one another (JobData.line) comes back as the
// children's output lines, under heads naming each run's first item; a line that is not JSON
// sends its chunk as results lines instead, and a job without `line` gets results lines by item.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessPool } from '../../src/pool/process/pool.js';
import { forEachResult, forEachWhole, type JobData } from '../../src/remote/wire.js';
import { runBlock } from '../../src/remote/worker-jobs.js';
import { resolveSpec } from '../../src/spec/load.js';
import { timed } from '../helpers.js';

const code = 'export const main = (e) => { if (e === 3) return 3; if (e === "boom") throw new Error("boom"); return e; };';
const pools: ProcessPool[] = [];
async function pool(): Promise<ProcessPool> {
  const p = new ProcessPool(resolveSpec({ exec_type: 'node', exec_info: { code } }), { processes: 1, onWorkerOutput: () => {} });
  pools.push(p);
  await p.start();
  return p;
}

// Runs the job; what it sent: the whole runs read back ([first item, count, failed, returned,
// lines]) and the results lines read back ([item, exit])
async function run(p: ProcessPool, data: JobData) {
  const whole: [number, number, number, number, string[]][] = [];
  const results: [number, number][] = [];
  let done = 0;
  await new Promise<void>((resolve) => runBlock(p, data, (lines, count) => {
    forEachResult(Buffer.from(lines), ({ id, exit }) => results.push([id, exit]));
    done += count;
  }, (pieces, count) => {
    const ok = forEachWhole(Buffer.concat(pieces.map((piece) => Buffer.from(piece))), ({ first, count: n, failed, returned, bytes, start, end }) => {
      whole.push([first, n, failed, returned, bytes.toString('utf8', start, end).split('\n').slice(0, -1)]);
    });
    assert.ok(ok, 'whole runs that read back');
    done += count;
  }, (items) => {
    assert.is(items, done);
    resolve();
  }));
  return { whole, results };
}

const it = suite('a worker\'s jobs as lines blocks');
it.after.each(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

it('input lines that follow one another come back whole, numbered by input line, each run named by its first item', timed(20_000, async () => {
  const p = await pool();
  const items = Array.from({ length: 300 }, (_, i) => (i === 7 ? '3' : i === 8 ? '"boom"' : JSON.stringify({ i })));
  // items 1000-1299, input lines 51-350
  const { whole, results } = await run(p, { run: 'r', first: 1000, line: 51, items: items.join('\n'), timeout: null });
  assert.equal(results, []);
  const lines = whole.flatMap((w) => w[4]);
  assert.is(lines.length, 300);
  let next = 1000;
  for (const [first, count, , , texts] of whole) {
    assert.is(first, next, 'runs follow one another');
    assert.is(texts.length, count);
    next += count;
  }
  const parsed = lines.map((line) => JSON.parse(line) as { line: number; data: unknown; exit: number; attempts: number; value?: unknown });
  assert.equal(parsed.map((r) => r.line), Array.from({ length: 300 }, (_, i) => 51 + i));
  assert.equal(parsed[0], { line: 51, data: { i: 0 }, exit: 0, attempts: 1, value: { i: 0 }, stdout: '', stderr: '' } as never);
  assert.equal([parsed[7]!.exit, parsed[8]!.exit], [3, 1]);
  assert.equal(whole.reduce((sum, w) => [sum[0]! + w[2], sum[1]! + w[3]], [0, 0]), [2, 1], 'failed and returned counted');
}));

it('a chunk with a line that is not JSON goes as results lines; a job without `line` gets results lines by item', timed(20_000, async () => {
  const p = await pool();
  const bad = await run(p, { run: 'r', first: 1, line: 10, items: ['{"a":1}', 'not json', '[2]'].join('\n'), timeout: null });
  // the line that is not JSON, and the lines of its chunk, as results lines; a later chunk may come whole
  assert.ok(bad.results.some(([id, exit]) => id === 2 && exit === 65), JSON.stringify(bad.results));
  const items = [...bad.results.map(([id]) => id), ...bad.whole.flatMap(([first, count]) => Array.from({ length: count }, (_, k) => first + k))];
  assert.equal(items.sort((x, y) => x - y), [1, 2, 3], 'each item once');
  const plain = await run(p, { run: 'r', first: 40, items: ['"x"', '[1]'].join('\n'), timeout: null });
  assert.equal(plain.whole, []);
  assert.equal(plain.results, [[40, 0], [41, 0]]);
}));

it.run();
