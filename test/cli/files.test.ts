import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { bin, fixture, scratch, timed } from '../helpers.js';

const { dir, write } = scratch('files');
const nodeSpec = fixture('specs/node.json');
const items = '"a"\n"b"\n"c"\n';

function cli(args: string[], stdin?: number) {
  const r = spawnSync(process.execPath, [bin, 'run', '-s', nodeSpec, ...args], { stdio: [stdin ?? 'ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// One line on stderr, nothing on stdout, no stack
function assertOneLine(r: { stdout: string; stderr: string }, message: string): void {
  assert.is(r.stdout, '');
  assert.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
}

test('-o naming the -d file (itself, a symbolic link, a hard link) exits 2 and leaves the input whole', timed(30_000, async () => {
  const data = write('items.jsonl', items);
  const link = path.join(dir, 'link.jsonl');
  symlinkSync(data, link);
  const hard = path.join(dir, 'hard.jsonl');
  linkSync(data, hard);
  for (const output of [data, link, hard]) {
    for (const resume of [[], ['--resume']]) {
      const r = cli(['-d', data, '-o', output, ...resume]);
      assert.is(r.status, 2, `${output} ${resume.join(' ')}: ${r.stderr}`);
      assertOneLine(r, `--output ${output} is the input (--data ${data}, the same file)`);
      assert.is(readFileSync(data, 'utf8'), items, 'the input is untouched');
    }
  }
}));

test('-o naming the file stdin is redirected from exits 2 too', timed(30_000, async () => {
  const data = write('stdin.jsonl', items);
  const fd = openSync(data, 'r');
  try {
    const r = cli(['-o', data], fd);
    assert.is(r.status, 2, r.stderr);
    assertOneLine(r, `--output ${data} is the input (stdin, the same file)`);
  } finally {
    closeSync(fd);
  }
  assert.is(readFileSync(data, 'utf8'), items);
}));

test('-d naming a directory exits 2 with one line', timed(30_000, async () => {
  const folder = path.join(dir, 'a-folder');
  mkdirSync(folder);
  const r = cli(['-d', folder]);
  assert.is(r.status, 2, r.stderr);
  assertOneLine(r, `cannot read --data ${folder}: it is a directory`);
}));

test('-o on another file, or one that does not exist yet, still runs', timed(30_000, async () => {
  const data = write('ok.jsonl', items);
  const out = path.join(dir, 'ok.results.jsonl');
  const r = cli(['-d', data, '-o', out]);
  assert.is(r.status, 0, r.stderr);
  assert.is(readFileSync(out, 'utf8').trim().split('\n').length, 3);
  assert.is(readFileSync(data, 'utf8'), items);
}));

test.run();
