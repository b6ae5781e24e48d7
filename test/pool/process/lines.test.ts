// `lines` blocks (protocol version 3) on the pool itself: a version 3 child answers the lines of
// a block in order, in chunks, with the output lines it writes itself; the pool hands each chunk
// to the block's owner, and a block whose child died goes on as calls of one line each. Given an
// fd for them (version 4), children write those output lines there, and the chunks count them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessPool } from '../../../src/pool/process/pool.js';
import { newCall, type Call, type LinesChunk, type LinesOwner, type RawResult } from '../../../src/pool/process/call.js';
import { resolveSpec } from '../../../src/spec/load.js';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { scratch, timed } from '../../helpers.js';

const code = 'export const main = (e) => { if (e === "exit") process.exit(5); if (e === "boom") throw new Error("boom"); return e; };';
const pools: ProcessPool[] = [];
function pool(processes = 1, writeLinesTo?: number): ProcessPool {
  const p = new ProcessPool(resolveSpec({ exec_type: 'node', exec_info: { code } }), { processes, onWorkerOutput: () => {} });
  if (writeLinesTo !== undefined) p.writeLinesTo(writeLinesTo);
  pools.push(p);
  return p;
}
const files = scratch('lines-blocks');
type Written = () => { line: number; exit: number; data: unknown }[];
// Runs `body` on a started pool of one child that writes its output lines to a results file
// (`written()`: what the file holds by then, a line each), with a recorder for its blocks
async function writingToFile(name: string, body: (p: ProcessPool, r: ReturnType<typeof recorder>, written: Written, fd: number) => Promise<void>): Promise<void> {
  const file = path.join(files.dir, name);
  const fd = openSync(file, 'w');
  try {
    const p = pool(1, fd);
    await p.start();
    await body(p, recorder(), () => readFileSync(file, 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l) as ReturnType<Written>[number]), fd);
  } finally {
    closeSync(fd);
  }
}

// An owner that keeps what it is given, and runs the lines split off a block as single calls
// whose results it keeps as [line, exit, attempts]
function recorder() {
  const chunks: LinesChunk[] = [];
  const singles: [number, number, number][] = [];
  // the line numbers of lines named as not JSON
  const bad: number[] = [];
  let settledLines = 0;
  let onSettled = () => {};
  const owner: LinesOwner = {
    answered(block, chunk) {
      chunks.push(chunk);
      bad.push(...chunk.bad.map((place) => block.lines!.line + place));
      settledLines += chunk.count;
      onSettled();
    },
    split(block: Call, from: number): Call[] {
      const lines = block.lines!.bytes.toString().split('\n').slice(0, -1);
      return lines.slice(from).map((text, k) => newCall(block.id + from + k, text, undefined, (raw: RawResult) => {
        singles.push([block.lines!.line + from + k, raw.exit, raw.attempts]);
        settledLines++;
        onSettled();
      }, undefined, undefined));
    },
  };
  const until = (lines: number) => new Promise<void>((resolve) => {
    onSettled = () => settledLines >= lines && resolve();
    onSettled();
  });
  return { owner, chunks, singles, bad, until };
}

const it = suite('lines blocks on the process pool');
it.after.each(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

it('a version 3 child answers a block in order with its output lines; blank lines are answered without one, bad ones named', timed(20_000, async () => {
  const p = pool();
  await p.start();
  assert.ok(p.takesLines);
  const r = recorder();
  const text = '{"a":1}\n\n"boom"\nnot json\n7\n';
  p.submitLines(Buffer.from(text), 10, 5, r.owner);
  await r.until(5);
  const out = Buffer.concat(r.chunks.flatMap((c) => c.out)).toString().split('\n').slice(0, -1).map((l) => JSON.parse(l) as { line: number; exit: number; data: unknown });
  assert.equal(out.map((l) => [l.line, l.exit, l.data]), [[10, 0, { a: 1 }], [12, 1, 'boom'], [14, 7, 7]]);
  assert.equal(r.bad, [13]);
  assert.is(r.chunks.reduce((n, c) => n + c.failed, 0), 3, 'the error, the bad line and the returned 7');
  assert.is(r.chunks.reduce((n, c) => n + c.returned, 0), 1);
  assert.is(p.stats().done, 4);
  assert.equal(r.singles, []);
}));

it('a child that dies in a block: the lines it answered stay answered, the others run again alone, the one that exits fails', timed(20_000, async () => {
  const p = pool();
  await p.start();
  const r = recorder();
  const lines = Array.from({ length: 40 }, (_, i) => (i === 25 ? '"exit"' : String(i * 2 + 1000)));
  p.submitLines(Buffer.from(lines.join('\n') + '\n'), 1, 40, r.owner);
  await r.until(40);
  const answered = r.chunks.reduce((n, c) => n + c.count, 0);
  assert.ok(answered <= 25, `${answered} lines answered before the exit`);
  assert.is(answered + r.singles.length, 40);
  assert.equal(r.singles.filter(([, exit]) => exit === 5), [[26, 5, 1]], 'the line that exits fails, on its first attempt');
  for (const [line, exit, attempts] of r.singles.filter(([l]) => l !== 26)) {
    assert.is(exit, (line - 1) * 2 + 1000, `line ${line}`);
    assert.is(attempts, 2, `line ${line} may have started: its next run is attempt 2`);
  }
}));

it('a block larger than a child holds is cut, and every line is answered once', timed(30_000, async () => {
  const p = pool(2);
  await p.start();
  const r = recorder();
  const count = 20_000;
  p.submitLines(Buffer.from(Array.from({ length: count }, (_, i) => JSON.stringify({ i })).join('\n') + '\n'), 1, count, r.owner);
  await r.until(count);
  const seen = Buffer.concat(r.chunks.flatMap((c) => c.out)).toString().split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { line: number }).line);
  assert.is(seen.length, count);
  assert.is(new Set(seen).size, count);
  assert.ok(r.chunks.length > 2, 'answered in several chunks');
}));

it('given an fd, a version 4 child writes a block\'s output lines there itself, and the chunks count them', timed(20_000, () => writingToFile('direct.jsonl', async (p, r, written, fd) => {
  p.submitLines(Buffer.from('{"a":1}\n\n"boom"\nnot json\n7\n'), 10, 5, r.owner);
  await r.until(5);
  assert.equal(r.chunks.flatMap((c) => c.out), [], 'no output line through this process');
  assert.is(r.chunks.reduce((n, c) => n + c.outLines, 0), 3);
  assert.is(r.chunks.reduce((n, c) => n + c.failed, 0), 3, 'the error, the bad line and the returned 7');
  assert.equal(r.bad, [13]);
  assert.equal(written().map((l) => [l.line, l.exit, l.data]), [[10, 0, { a: 1 }], [12, 1, 'boom'], [14, 7, 7]]);
  assert.throws(() => p.writeLinesTo(fd), /before the children start/);
})));

it('given an fd, a child that dies in a block: each line has one output line, in the file or from its call run again', timed(20_000, () => writingToFile('died.jsonl', async (p, r, written) => {
  const lines = Array.from({ length: 40 }, (_, i) => (i === 25 ? '"exit"' : String(i)));
  p.submitLines(Buffer.from(lines.join('\n') + '\n'), 1, 40, r.owner);
  await r.until(40);
  const inFile = written().map((l) => l.line);
  assert.is(inFile.length, r.chunks.reduce((n, c) => n + c.outLines, 0));
  assert.equal([...inFile, ...r.singles.map(([line]) => line)].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1));
})));

it('closing the pool answers the lines of a block still queued as cancelled, one call each', timed(20_000, async () => {
  const p = pool();
  await p.start();
  const r = recorder();
  p.submitLines(Buffer.from('1\n2\n3\n'), 1, 3, r.owner);
  await p.close();
  await r.until(3);
  const cancelled = r.singles.filter(([, exit]) => exit === 130).length;
  assert.is(cancelled + r.chunks.reduce((n, c) => n + c.count, 0), 3);
}));

it.run();
