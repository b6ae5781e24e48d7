import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin, childrenOf, fixture, isAlive, scratch, timed, waitUntil } from '../helpers.js';
import { runtimes } from '../runtimes.js';

const { dir, write } = scratch('cli');
const nodeSpec = fixture('specs/node.json');

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', timeout: 30_000 });
  const lines = () => r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, get lines() { return lines(); } };
}

test('runs a file of JSON lines and writes one result per line', timed(20_000, async () => {
  const data = write('items.jsonl', '1.5\n{"a": [1, 2]}\n"text"\n');
  const r = cli(['run', '-s', nodeSpec, '-d', data, '--keep-order']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines.map((l) => l.data), [1.5, { a: [1, 2] }, 'text']);
  assert.equal(r.lines.map((l) => l.line), [1, 2, 3]);
  assert.equal(r.lines.map((l) => l.value), [1.5, { a: [1, 2] }, 'text']);
  assert.equal(r.lines.map((l) => l.exit), [0, 0, 0]);
  assert.equal(r.lines.map((l) => [l.stdout, l.stderr]), [['', ''], ['', ''], ['', '']]);
}));

test('an item whose handler returns a non-zero integer makes the status 1', timed(20_000, async () => {
  const r = cli(['run', '-s', nodeSpec], '0\n7\n');
  assert.is(r.status, 1);
  assert.equal(r.lines.map((l) => l.exit).sort(), [0, 7]);
  assert.match(r.stderr, '1 of 2 items failed');
}));

test('reads stdin without -d and with -d -, and accepts multirunner\'s form without "run"', timed(20_000, async () => {
  for (const args of [['run', '-s', nodeSpec], ['run', '-s', nodeSpec, '-d', '-'], ['-s', nodeSpec]]) {
    const r = cli(args, '"a"\n"b"\n');
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.lines.map((l) => l.data).sort(), ['a', 'b']);
  }
}));

test('blank lines are skipped; a bad line gives an exit 65 result naming it; status 1', timed(20_000, async () => {
  const r = cli(['run', '-s', nodeSpec, '--keep-order'], '\ufeff"a"\n\n  \nnot json\r\n"b"');
  assert.is(r.status, 1);
  assert.equal(r.lines.map((l) => l.line), [1, 4, 5]);
  const bad = r.lines[1]!;
  assert.is(bad.exit, 65);
  assert.is(bad.data, 'not json');
  assert.equal((bad.error as { name: string }).name, 'ParseError');
  assert.match((bad.error as { message: string }).message, 'line 4');
  assert.match(r.stderr, '1 of 3 items failed');
}));

test('--on-bad-line fail stops the run with an error naming the line', timed(20_000, async () => {
  const r = cli(['run', '-s', nodeSpec, '--on-bad-line', 'fail'], '"a"\n{oops\n"b"\n');
  assert.is(r.status, 1);
  assert.match(r.stderr, 'line 2: invalid JSON');
  assert.not.match(r.stderr, '    at ');
}));

test('a handler of protocol version 1 (Perl) gets only lines checked to be JSON: a bad one fails alone', timed(20_000, async () => {
  if (spawnSync('perl', ['-e', '1']).status !== 0) return void console.log('skip: perl not found');
  const spec = write('perl.json', JSON.stringify({ exec_type: { executable: 'perl', handler: fixture('perl_handler.pl') }, exec_info: {} }));
  const r = cli(['run', '-s', spec, '--keep-order'], '2\n{oops\n3\n');
  assert.is(r.status, 1);
  assert.equal(r.lines.map((l) => [l.line, l.exit, l.value]), [[1, 0, 4], [2, 65, undefined], [3, 0, 6]]);
  assert.is((r.lines[1]!.error as { name: string }).name, 'ParseError');
}));

test('-o writes the results to a file; stdout stays empty', timed(20_000, async () => {
  const out = path.join(dir, 'results.jsonl');
  const r = cli(['run', '-s', nodeSpec, '-o', out], '"x"\n"y"\n');
  assert.is(r.status, 0);
  assert.is(r.stdout, '');
  assert.is(readFileSync(out, 'utf8').trim().split('\n').length, 2);
}));

test('--handler overrides the spec; --timeout is in seconds', timed(30_000, async () => {
  const r = cli(['run', '-s', nodeSpec, '--handler', 'double', '--keep-order'], '2\n3\n');
  assert.equal(r.lines.map((l) => l.value), [4, 6]);
  const t = cli(['run', '-s', nodeSpec, '--timeout', '0.5', '--keep-order'], '"hang"\n"ok"\n');
  assert.is(t.status, 1);
  assert.equal(t.lines.map((l) => l.exit), [124, 0]);
  assert.is(t.lines[0]!.timedOut, true);
}));

test('spec, usage and setup errors exit 2 with one clear message and no stack', timed(30_000, async () => {
  const cases: [string[], string][] = [
    [['run', '-s', fixture('specs/bad_code_type.yml')], 'exec_info.code.type: expected "path" or "string", got "file"'],
    [['run', '-s', fixture('specs/unknown_key.yml')], 'processes: unknown field'],
    [['run', '-s', path.join(dir, 'missing.yml')], 'cannot read job spec'],
    [['run', '-s', nodeSpec, '-p', 'many'], 'Invalid value for -p'],
    [['run', '-s', nodeSpec, '--on-bad-line', 'skip'], '--on-bad-line'],
    [['run', '-s', nodeSpec, '--handler', 'nope'], 'handler function "nope" is not exported'],
    [['run'], '-s,--spec'],
    [['run', '-s', nodeSpec, '-o', path.join(dir, 'no-such-dir', 'out.jsonl')], 'cannot write --output'],
    [['run', '-s', nodeSpec, '-d', path.join(dir, 'no-such-input.jsonl')], 'cannot read --data'],
  ];
  for (const [args, message] of cases) {
    const r = cli(args, '');
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
    assert.not.match(r.stderr, 'dist/src', 'nothing of polytask\'s own code');
    assert.is(r.stdout, '');
  }
}));

test('a reader that stops reading (| head -1) ends the run quietly with status 141', timed(30_000, async () => {
  const data = write('many.jsonl', Array.from({ length: 50_000 }, (_, i) => `"x${i}"`).join('\n'));
  const child = spawn(process.execPath, [bin, 'run', '-s', nodeSpec, '-d', data], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout.once('data', () => child.stdout.destroy());
  assert.is(await exited, 141);
  assert.not.match(stderr, /\n\s+at /, 'no stack trace');
}));

test('validate loads the spec and starts a child', timed(20_000, async () => {
  const ok = cli(['validate', '-s', nodeSpec]);
  assert.is(ok.status, 0);
  assert.match(ok.stdout, 'ok:');
  const bad = cli(['validate', '-s', write('bad.yml', 'exec_type: node\nexec_info:\n  code: "export const main = ("\n')]);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, 'SyntaxError');
}));

test('--help and --version', timed(20_000, async () => {
  assert.match(cli(['--version']).stdout, /^\d+\.\d+\.\d+/);
  const help = cli(['run', '--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, '--keep-order');
}));

// Starts `polytask run` with one quick item and many slow ones; resolves once the quick
// result is out, with the children then running the slow items
async function startInterruptible(spec: string, detached: boolean) {
  const child = spawn(process.execPath, [bin, 'run', '-s', spec, '--handler', 'sleepy', '-p', '2'], { stdio: ['pipe', 'pipe', 'pipe'], detached });
  let stdout = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stdin.write('1\n');
  for (let i = 0; i < 10; i++) child.stdin.write('60000\n');
  await waitUntil(() => stdout.includes('"data":1'), 10_000, 'the first result');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, kids: childrenOf(child.pid!), exited, stdout: () => stdout };
}

test('Ctrl-C: exit 130, results so far kept, children gone within a second', timed(30_000, async () => {
  const { child, kids, exited, stdout } = await startInterruptible(nodeSpec, false);
  assert.is(kids.length, 2);
  child.kill('SIGINT');
  assert.is(await exited, 130);
  assert.is(stdout().trim().split('\n').length, 1);
  await waitUntil(() => kids.every((pid) => !isAlive(pid)), 1000, 'children to end');
}));

test('Ctrl-C to the whole process group: the children do not die first; no item is reported as crashed', timed(30_000, async () => {
  const specs = [nodeSpec, ...(runtimes.some((r) => r.name === 'python3' && r.missing === undefined) ? [fixture('specs/python3.yml')] : [])];
  for (const spec of specs) {
    const { child, kids, exited, stdout } = await startInterruptible(spec, true);
    process.kill(-child.pid!, 'SIGINT');
    assert.is(await exited, 130);
    assert.is(stdout().trim().split('\n').length, 1, `only the finished item: ${stdout()}`);
    await waitUntil(() => kids.every((pid) => !isAlive(pid)), 1000, 'children to end');
  }
}));

const orphanSpecs: [string, string][] = [['node', nodeSpec]];
const python3 = runtimes.find((r) => r.name === 'python3' && r.missing === undefined);
if (python3 !== undefined) orphanSpecs.push(['python3', fixture('specs/python3.yml')]);
for (const [name, spec] of orphanSpecs) {
  test(`kill -9 of the parent leaves no ${name} orphan, even mid-item`, timed(30_000, async () => {
    const child = spawn(process.execPath, [bin, 'run', '-s', spec, '--handler', 'sleepy', '-p', '2'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.write('60000\n60000\n');
    await waitUntil(() => childrenOf(child.pid!).length === 2, 10_000, 'two children');
    await new Promise((r) => setTimeout(r, 300));
    const kids = childrenOf(child.pid!);
    child.kill('SIGKILL');
    await waitUntil(() => kids.every((pid) => !isAlive(pid)), 2000, 'orphans to exit');
  }));
}


test('a slow reader of stdout gets every result, and no listener warning', timed(60_000, async () => {
  const count = 50_000;
  const data = write('many.jsonl', Array.from({ length: count }, (_, i) => `"item-${i}"`).join('\n') + '\n');
  const child = spawn(process.execPath, [bin, 'run', '-s', nodeSpec, '-d', data, '-p', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // read in small sips with pauses, so that the pipe fills and the writer waits for 'drain'
  let lines = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) lines++;
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), 2);
  });
  // count what was read by the end of stdout, not by the child's exit: the pipe may still hold lines
  const [status] = await Promise.all([
    new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))),
    new Promise<void>((resolve) => child.stdout.on('end', resolve)),
  ]);
  assert.is(status, 0, stderr);
  assert.is(lines, count);
  assert.not.match(stderr, 'MaxListenersExceededWarning');
}));

test('--retries: a crashed item runs again and its result says after how many attempts', timed(30_000, async () => {
  const args = ['run', '-s', nodeSpec, '--handler', 'flaky', '--retry-delay', '0.01', '--keep-order'];
  const crash = cli([...args, '--retries', '2'], '{"mode":"crash","until":2}\n');
  assert.is(crash.status, 0, crash.stderr);
  assert.equal(crash.lines.map((l) => [l.exit, l.attempts, l.value]), [[0, 2, 'attempt 2']]);
  // an item error is retried only when asked
  const input = '{"mode":"error","until":2}\n{"mode":"none","until":1}\n';
  const plain = cli([...args, '--retries', '2'], input);
  assert.is(plain.status, 1);
  assert.equal(plain.lines.map((l) => [l.exit, l.attempts]), [[1, 1], [0, 1]]);
  const asked = cli([...args, '--retries', '1', '--retry-on', 'error'], input);
  assert.is(asked.status, 0, asked.stderr);
  assert.equal(asked.lines.map((l) => [l.exit, l.attempts]), [[0, 2], [0, 1]]);
  // retries used up: the last failure, with one attempts field counting every run
  const failing = cli([...args, '--retries', '1', '--retry-on', 'error'], '{"mode":"error","until":9}\n');
  assert.is(failing.status, 1);
  assert.equal(failing.lines.map((l) => [l.exit, l.attempts]), [[1, 2]]);
  assert.is(failing.stdout.split('"attempts"').length, 2, failing.stdout);
  const bad = cli(['run', '-s', nodeSpec, '--retry-on', 'crash,sometimes'], '');
  assert.is(bad.status, 2);
  assert.match(bad.stderr, '--retry-on');
  assert.not.match(bad.stderr, '    at ');
}));

test('--max-tasks-per-worker replaces children between items without failing one', timed(30_000, async () => {
  const input = Array.from({ length: 12 }, () => '{"mb":0,"ms":1}').join('\n');
  const r = cli(['run', '-s', nodeSpec, '--handler', 'leaky', '-p', '1', '--max-tasks-per-worker', '4'], input);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.lines.length, 12);
  assert.is(new Set(r.lines.map((l) => l.value)).size, 3);
}));

// Writes to a pipe are queued: exiting with results still queued would drop them
test('every result reaches a reader of stdout that is behind when the run ends', timed(60_000, async () => {
  // about 73 KB of results (2,082 bytes a line: the item and its value), one at a time: more
  // than a pipe holds (64 KiB), and less than the pipe and stdout's 16 KiB buffer hold together,
  // past which the run waits for the reader (the read window)
  const count = 35;
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
