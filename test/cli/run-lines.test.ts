// `polytask run` over children that write their own output lines (protocol version 3, the Node
// and Python handlers): the input goes to them as read, a block of lines at a time, and, when the
// results go to a regular file, they write their output lines there themselves (version 4).
// Whatever the input, the output must be the one the item-by-item path writes (the path taken
// with --keep-order), in another order: the same lines, the same end-of-run messages, the same
// exit status.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runLines } from '../../src/cli/run-lines.js';
import { ProcessPool } from '../../src/pool/process/pool.js';
import { resolveSpec } from '../../src/spec/load.js';
import { bin, scratch, timed, waitUntil } from '../helpers.js';
import { availableRuntimes } from '../runtimes.js';

const files = scratch('polytask-run-lines-');
const code = {
  node: [
    'import { existsSync } from "node:fs";',
    'export async function main(e) {',
    '  if (e?.sleep !== undefined) await new Promise((r) => setTimeout(r, e.sleep));',
    '  while (e?.wait !== undefined && !existsSync(e.wait)) await new Promise((r) => setTimeout(r, 10));',
    '  if (e?.say !== undefined) console.log(e.say);',
    '  if (e === "boom") throw new Error("boom");',
    '  if (e === "nan") return NaN;',
    '  if (e === "print") { console.log("out", e); console.error("err"); }',
    '  if (e === "exit") process.exit(3);',
    '  return e;',
    '}',
  ].join('\n'),
  // the same, on Python 2 and 3
  python: [
    'import os, sys, time',
    'def main(e, c):',
    '    if isinstance(e, dict) and "sleep" in e:',
    '        time.sleep(e["sleep"] / 1000.0)',
    '    while isinstance(e, dict) and "wait" in e and not os.path.exists(e["wait"]):',
    '        time.sleep(0.01)',
    '    if isinstance(e, dict) and "say" in e:',
    '        sys.stdout.write(e["say"] + "\\n")',
    '    if e == "boom":',
    '        raise ValueError("boom")',
    '    if e == "nan":',
    '        return float("nan")',
    '    if e == "print":',
    '        sys.stdout.write("out %s\\n" % e)',
    '        sys.stderr.write("err\\n")',
    '    if e == "exit":',
    '        sys.stdout.flush()',
    '        os._exit(3)',
    '    return e',
  ].join('\n') + '\n',
};
// files, so that the stacks of both runs name the same one
const specs = new Map<string, string>(availableRuntimes().map((runtime) => {
  const language = runtime.name === 'node' ? 'node' : 'python';
  const codeFile = files.write(language === 'node' ? 'code.mjs' : 'code.py', code[language]);
  return [runtime.name, files.write(`${runtime.name}.json`, JSON.stringify({ exec_type: runtime.name, exec_info: { code: { type: 'path', data: codeFile } } }))];
}));

// `to`: where the results go: a pipe (read here), or a regular file, which the children then
// write their output lines to themselves (protocol version 4): -o FILE, or stdout redirected to it
function run(runtime: string, args: string[], input: Buffer | string, to: 'pipe' | '-o' | 'stdout file' = 'pipe') {
  const file = path.join(files.dir, `results-${runtime}.jsonl`);
  const out = to === 'stdout file' ? openSync(file, 'w') : 'pipe';
  const r = spawnSync(process.execPath, [bin, 'run', '-s', specs.get(runtime)!, '-p', '2', ...args, ...(to === '-o' ? ['-o', file] : [])],
    { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', out, 'pipe'] });
  if (typeof out === 'number') closeSync(out);
  const lines = (to === 'pipe' ? r.stdout : readFileSync(file, 'utf8')).split('\n').filter((l) => l !== '');
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

for (const name of specs.keys()) {
  cli(`${name}: the same output as item by item, for every kind of line`, timed(60_000, async () => {
    for (const flags of [[], ['--no-exit-from-return']]) {
      const asRead = run(name, flags, tricky);
      const byItem = run(name, [...flags, '--keep-order'], tricky);
      assert.equal(asRead.sorted, byItem.sorted, `flags ${flags.join(' ')}`);
      assert.is(asRead.lines.length, 19);
      assert.is(asRead.status, byItem.status);
      assert.is(asRead.stderr, byItem.stderr);
      for (const to of ['-o', 'stdout file'] as const) {
        const toFile = run(name, flags, tricky, to);
        assert.equal(toFile.sorted, byItem.sorted, `to ${to}, flags ${flags.join(' ')}`);
        assert.is(toFile.status, byItem.status);
        assert.is(toFile.stderr, byItem.stderr);
      }
    }
    const lines = run(name, [], tricky).lines.map((l) => JSON.parse(l) as { line: number; exit: number; error?: { name: string } });
    const byLine = new Map(lines.map((l) => [l.line, l]));
    assert.is(byLine.get(5)?.error?.name, 'ParseError');
    assert.is(byLine.get(20)?.error?.name, 'ParseError');
    assert.is(byLine.get(9)?.exit, 7);
    assert.ok(!byLine.has(2) && !byLine.has(3), 'blank lines are no items');
  }));

  cli(`${name}: many lines: each answered once, as item by item`, timed(60_000, async () => {
    const input = Array.from({ length: 20_000 }, (_, i) => (i % 1000 === 999 ? '"boom"' : i % 777 === 0 ? '{"sleep": 2}' : JSON.stringify({ i }))).join('\n') + '\n';
    const asRead = run(name, [], input);
    const byItem = run(name, ['--keep-order'], input);
    assert.is(asRead.lines.length, 20_000);
    assert.equal(asRead.sorted, byItem.sorted);
    assert.is(asRead.stderr, 'polytask: 20 of 20000 items failed\n');
    const toFile = run(name, [], input, '-o');
    assert.equal(toFile.sorted, byItem.sorted, 'children writing to the -o file');
    assert.is(toFile.stderr, asRead.stderr);
  }));

  cli(`${name}: what an item prints, before or after it waits, is its own, among lines that finish in another order`, timed(60_000, async () => {
    const input = Array.from({ length: 600 }, (_, i) => JSON.stringify(i % 3 === 0 ? { say: `s${i}` } : { say: `w${i}`, sleep: (i * 7) % 11 })).join('\n') + '\n';
    for (const to of ['pipe', '-o'] as const) {
      const r = run(name, [], input, to);
      assert.is(r.lines.length, 600, `to ${to}`);
      for (const line of r.lines) {
        const result = JSON.parse(line) as { data: { say: string }; stdout: string };
        assert.is(result.stdout, `${result.data.say}\n`, `to ${to}: ${line}`);
      }
    }
  }));

  cli(`${name}: an item that runs long does not hold up the results of the lines before it`, timed(60_000, async () => {
    const go = path.join(files.dir, `go-${name}`);
    const child = spawn(process.execPath, [bin, 'run', '-s', specs.get(name)!, '-p', '1'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // one block: a quick line, then one that waits for a file the test writes once the first
    // result is out (with a stdin left open, nothing else ends the block)
    child.stdin.write(`"quick"\n${JSON.stringify({ wait: go })}\n`);
    try {
      await waitUntil(() => stdout.includes('"quick"'), 20_000, 'the quick line\'s result while the other line runs');
      assert.not.match(stdout, '"wait"');
    } finally {
      writeFileSync(go, '');
      child.stdin.end();
    }
    assert.is(await exited, 0);
    assert.is(stdout.trim().split('\n').length, 2);
  }));

  cli(`${name}: an item that ends its child fails alone; the other lines of its block run again`, timed(60_000, async () => {
    const input = Array.from({ length: 300 }, (_, i) => (i === 150 ? "\"exit\"" : JSON.stringify({ i }))).join('\n') + '\n';
    for (const flags of [[], ['--retries', '1']]) {
      const failures = (args: string[], to: 'pipe' | 'stdout file' = 'pipe') => {
        const r = run(name, args, input, to);
        const results = r.lines.map((l) => JSON.parse(l) as { line: number; exit: number; attempts: number; error?: { name: string } });
        assert.equal(results.map((x) => x.line).sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i + 1));
        assert.is(r.status, 1);
        return results.filter((x) => x.exit !== 0).map((x) => [x.line, x.exit, x.error?.name, x.attempts]);
      };
      const failed = failures(flags);
      assert.equal(failed.map((x) => x.slice(0, 3)), [[151, 3, 'WorkerExitedError']]);
      assert.equal(failed, failures([...flags, '--keep-order']));
      // the lines its child had written to the results stay there once; the others run again
      assert.equal(failed, failures(flags, 'stdout file'));
      // the Node handler names the item that calls process.exit(); a Python child that ends
      // through os._exit() says nothing, so its item is found by running the block's lines
      // again one at a time (its second attempt)
      if (name === 'node') assert.is(failed[0]![3], flags.length === 0 ? 1 : 2);
    }
  }));

  cli(`${name}: a results file that cannot grow: the children say so, the run stops with an OutputError`, timed(60_000, async () => {
    const file = path.join(files.dir, `full-${name}.jsonl`);
    const input = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i })).join('\n') + '\n';
    // a file size limit of 64 blocks (32 or 64 KB) for the run and its children, which get
    // EFBIG past it (Node and Python ignore SIGXFSZ): a full disk, for this file only
    const r = spawnSync('sh', ['-c', 'ulimit -f 64 && exec "$0" "$@"', process.execPath, bin, 'run', '-s', specs.get(name)!, '-p', '2', '-o', file],
      { input, encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /^polytask: child cannot write the results: .*(EFBIG|File too large)/m);
    assert.match(r.stderr, /^polytask: OutputError: cannot write the results: EFBIG/m);
    // nothing written twice (the lines of the failed write run again, and find the file full)
    const whole = readFileSync(file, 'utf8').split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { line: number }).line);
    assert.ok(whole.length > 100, `${whole.length} whole lines`);
    assert.is(new Set(whole).size, whole.length);
  }));
}

cli('what is held does not grow with the input', timed(60_000, async () => {
  // a full collection on demand, to see what is still held, not what waits for the collector
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const lines = 900_000;
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
    // two thirds of the input is 25 MB; what is in flight (the window, the chunks the input has
    // read ahead, the children's answers being read) is some MB whatever the input's length
    assert.ok(heldMidway !== undefined && heldMidway < 8_000_000, `${heldMidway} bytes of buffers held after two thirds of the input`);
  } finally {
    await pool.close();
  }
}));

cli.run();
