// `polytask run` over children that write their own output lines (protocol version 3, the Node
// handler): the input goes to them as read, a block of lines at a time. Whatever the input, the
// output must be the one the item-by-item path writes (the path taken with --keep-order), in
// another order: the same lines, the same end-of-run messages, the same exit status.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runLines } from '../../src/cli/run-lines.js';
import { ProcessPool } from '../../src/pool/process/pool.js';
import { resolveSpec } from '../../src/spec/load.js';
import { bin, scratch, timed } from '../helpers.js';

const files = scratch('polytask-run-lines-');
const code = [
  'export async function main(e) {',
  '  if (e?.sleep !== undefined) await new Promise((r) => setTimeout(r, e.sleep));',
  '  if (e === "boom") throw new Error("boom");',
  '  if (e === "nan") return NaN;',
  '  if (e === "print") { console.log("out", e); console.error("err"); }',
  '  if (e === "exit") process.exit(3);',
  '  return e;',
  '}',
].join('\n');
// a file, so that the stacks of both runs name the same one
const codeFile = files.write('code.mjs', code);
const spec = files.write('spec.json', JSON.stringify({ exec_type: 'node', exec_info: { code: { type: 'path', data: codeFile } } }));

function run(args: string[], input: Buffer | string) {
  const r = spawnSync(process.execPath, [bin, 'run', '-s', spec, '-p', '2', ...args], { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  return { status: r.status, stderr: r.stderr, lines, sorted: [...lines].sort() };
}

const cli = suite('polytask run with children that write their output lines');

const tricky = Buffer.concat([
  Buffer.from('\xef\xbb\xbf', 'latin1'),
  Buffer.from([
    '{"a": 1}', '', '   \t', '[1, 2]\r', 'not json', '"print"', '"boom"', '"nan"', '7', '0', '{"sleep": 30}', '"\u00e9\u2028"',
    '{"a": 1} x', 'NaN', '{"sleep": 1}', '{"sleep": 20}', '42', 'null', '"caf\u00e9"',
  ].join('\n') + '\n'),
  Buffer.from([0x22, 0xff, 0x22, 0x0a]),
  Buffer.from('"last, with no newline"'),
]);

cli('the same output as item by item, for every kind of line', timed(60_000, async () => {
  for (const flags of [[], ['--no-exit-from-return']]) {
    const asRead = run(flags, tricky);
    const byItem = run([...flags, '--keep-order'], tricky);
    assert.equal(asRead.sorted, byItem.sorted, `flags ${flags.join(' ')}`);
    assert.is(asRead.lines.length, 19);
    assert.is(asRead.status, byItem.status);
    assert.is(asRead.stderr, byItem.stderr);
  }
  const lines = run([], tricky).lines.map((l) => JSON.parse(l) as { line: number; exit: number; error?: { name: string } });
  const byLine = new Map(lines.map((l) => [l.line, l]));
  assert.is(byLine.get(5)?.error?.name, 'ParseError');
  assert.is(byLine.get(20)?.error?.name, 'ParseError');
  assert.is(byLine.get(9)?.exit, 7);
  assert.ok(!byLine.has(2) && !byLine.has(3), 'blank lines are no items');
}));

cli('many lines: each answered once, as item by item', timed(60_000, async () => {
  const input = Array.from({ length: 20_000 }, (_, i) => (i % 1000 === 999 ? '"boom"' : i % 777 === 0 ? '{"sleep": 2}' : JSON.stringify({ i }))).join('\n') + '\n';
  const asRead = run([], input);
  const byItem = run(['--keep-order'], input);
  assert.is(asRead.lines.length, 20_000);
  assert.equal(asRead.sorted, byItem.sorted);
  assert.is(asRead.stderr, 'polytask: 20 of 20000 items failed\n');
}));

cli('an item that ends its child fails alone; the other lines of its block run again', timed(60_000, async () => {
  const input = Array.from({ length: 300 }, (_, i) => (i === 150 ? "\"exit\"" : JSON.stringify({ i }))).join('\n') + '\n';
  for (const flags of [[], ['--retries', '1']]) {
    const r = run(flags, input);
    const results = r.lines.map((l) => JSON.parse(l) as { line: number; exit: number; attempts: number; error?: { name: string } });
    assert.equal(results.map((x) => x.line).sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i + 1));
    const failed = results.filter((x) => x.exit !== 0);
    assert.equal(failed.map((x) => [x.line, x.exit, x.error?.name]), [[151, 3, 'WorkerExitedError']]);
    assert.is(failed[0]!.attempts, flags.length === 0 ? 1 : 2);
    assert.is(r.status, 1);
  }
}));

cli('what is held does not grow with the input', timed(60_000, async () => {
  // a full collection on demand, to see what is still held, not what waits for the collector
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const lines = 300_000;
  const line = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(24) }) + '\n';
  const input = Readable.from((function* () {
    for (let i = 0; i < lines; i += 1000) yield Buffer.from(Array.from({ length: 1000 }, (_, k) => line(i + k)).join(''));
  })());
  const pool = new ProcessPool(resolveSpec({ exec_type: 'node', exec_info: { code: 'export const main = (e) => e.i' } }), { processes: 2, onWorkerOutput: () => {} });
  try {
    await pool.start();
    assert.ok(pool.takesLines);
    let written = 0;
    let heldMidway: number | undefined;
    await runLines(pool, input, async (_text, count) => {
      written += count;
      if (heldMidway === undefined && written >= (lines * 2) / 3) {
        gc();
        heldMidway = process.memoryUsage().arrayBuffers;
      }
    }, new AbortController().signal);
    assert.is(written, lines);
    // two thirds of the input is 8 MB; the window in flight is some hundred KB
    assert.ok(heldMidway !== undefined && heldMidway < 3_000_000, `${heldMidway} bytes of buffers held after two thirds of the input`);
  } finally {
    await pool.close();
  }
}));

cli.run();
