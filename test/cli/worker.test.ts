// `polytask worker` and `polytask run --redis` end to end, against a real redis-server: results
// as for a local run, the flags' errors, no worker (one line, fast), Ctrl-C on the producer (130,
// its jobs removed, the worker free), the producer killed with -9 then --resume (one result per
// line), Redis lost for good (one line, exit 1).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin, fixture, scratch, timed, waitUntil } from '../helpers.js';
import { RedisServer, redisMissing, sleeperSpec, startWorker, type WorkerProcess } from '../remote/redis.js';

const it = suite('polytask worker / run --redis');
const missing = redisMissing();
const redis = new RedisServer();
const dir = scratch('cli-worker');
const specFile = dir.write('spec.yml', sleeperSpec);
const workers: WorkerProcess[] = [];

it.before(async () => {
  if (missing === undefined) await redis.start();
});
it.after.each(async () => {
  for (const worker of workers.splice(0)) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
});
it.after(() => redis.close());

// a node spec of one line of code (without a double quote)
const nodeSpec = (name: string, code: string) => dir.write(name, `exec_type: node\nexec_info:\n  code: "${code}"\n`);
const lines = (n: number, ms: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: i + 1, ms })).join('\n') + '\n';
const { POLYTASK_SECRET: _secret, ...env } = process.env;
const polytask = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20, env });

function startRun(...args: string[]) {
  const child = spawn(process.execPath, [bin, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const seen = { out: '', err: '' };
  child.stdout.on('data', (chunk: Buffer) => (seen.out += chunk));
  child.stderr.on('data', (chunk: Buffer) => (seen.err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, seen, exited };
}

it('run --redis writes the same results as a local run', timed(60_000, async () => {
  workers.push(await startWorker(bin, redis.url, specFile, '-p', '2'));
  const data = dir.write('same.jsonl', lines(500, 0));
  const remote = polytask('run', '-s', specFile, '-d', data, '--redis', redis.url, '--keep-order');
  const local = polytask('run', '-s', specFile, '-d', data, '-p', '2', '--keep-order');
  assert.is(remote.status, 0, remote.stderr);
  assert.is(remote.stdout, local.stdout);
}));

it('run --redis without --keep-order sends the lines in blocks: the same results as a local run, hostile lines included', timed(90_000, async () => {
  const echo = nodeSpec('echo.yml', "export const main = (item) => { if (item === 42) throw new Error('boom'); if (item === null) return 3; console.log('seen', JSON.stringify(item)); return item }");
  workers.push(await startWorker(bin, redis.url, echo, '-p', '2'));
  // a BOM, CRLF, blank and whitespace lines, a line that is not UTF-8, lines that are not JSON,
  // a throw, a returned exit status, a long line; then enough lines for several reads and blocks
  const hostile = Buffer.concat([
    Buffer.from('\ufeff{"a":1}\r\n\n   \n{"b":2}\nnot json\n{"c":"\u00e9"}\n{"bad":"'),
    Buffer.from([0xff]),
    Buffer.from('"}\n[1,2]\n"str"\n42\nnull\n{"open":\n'),
    // a line longer than a job's 256 KB
    Buffer.from(`${JSON.stringify({ big: 'x'.repeat(300_000) })}\n`),
    Buffer.from(Array.from({ length: 6000 }, (_, i) => (i % 1000 === 500 ? '\t\n' : JSON.stringify({ n: i, pad: 'x'.repeat(i % 40) }) + '\n')).join('')),
    // and plain lines (sent a read at a time as one text, run as lines blocks by the worker),
    // throws and returned statuses among them, the last without its newline
    Buffer.from(Array.from({ length: 6000 }, (_, i) => (i % 997 === 5 ? '42' : i % 1009 === 7 ? 'null' : JSON.stringify({ m: i, s: i % 7 === 0 ? '\u00e9\u{1f600}' : 'x' }))).join('\n')),
  ]);
  const data = path.join(dir.dir, 'hostile.jsonl');
  writeFileSync(data, hostile);
  const remote = polytask('run', '-s', echo, '-d', data, '--redis', redis.url);
  const local = polytask('run', '-s', echo, '-d', data, '-p', '2');
  // the handler's temporary folder is in its stack traces
  const sorted = (out: string) => out.replace(/polytask-[A-Za-z0-9]+/g, 'TMP').trim().split('\n').sort();
  assert.is(remote.status, 1, remote.stderr);
  assert.is(remote.stderr, local.stderr);
  const results = sorted(remote.stdout);
  assert.is(results.length, 11 + 6000 - 6 + 6000);
  assert.equal(results, sorted(local.stdout));
  // a BOM before plain lines (sent as one text from after the BOM)
  const bom = dir.write('bom.jsonl', '\ufeff{"a":1}\n{"b":"\u00e9"}\n[3]\n');
  const bomRemote = polytask('run', '-s', echo, '-d', bom, '--redis', redis.url);
  assert.is(bomRemote.status, 0, bomRemote.stderr);
  assert.equal(sorted(bomRemote.stdout), sorted(polytask('run', '-s', echo, '-d', bom, '-p', '2').stdout));
  assert.match(bomRemote.stdout, '{"line":1,"data":{"a":1},');
}));

it('a worker runs trivial items as lines blocks; a child that dies in one: its item fails alone, as in a local run', timed(90_000, async () => {
  const dies = nodeSpec('dies.yml', 'export const main = (item) => { if (item.die) process.exit(3); return item }');
  workers.push(await startWorker(bin, redis.url, dies, '-p', '2'));
  // the first job is run a call per item: the worker then knows the items are trivial
  assert.is(polytask('run', '-s', dies, '-d', dir.write('warm.jsonl', lines(100, 0)), '--redis', redis.url).status, 0);
  const data = dir.write('dies.jsonl', Array.from({ length: 3000 }, (_, i) => JSON.stringify(i === 1500 || i === 2900 ? { die: true, i } : { i })).join('\n') + '\n');
  const remote = polytask('run', '-s', dies, '-d', data, '--redis', redis.url);
  const local = polytask('run', '-s', dies, '-d', data, '-p', '2');
  // `attempts` apart: both count the runs of a line, and the lines run again after a death are
  // those of the block its child was running, cut differently in a local run and over Redis
  const sorted = (out: string) => out.replace(/polytask-[A-Za-z0-9]+/g, 'TMP').replace(/"attempts":\d+/g, '"attempts":N').trim().split('\n').sort();
  assert.is(remote.status, 1, remote.stderr);
  assert.is(remote.stderr, local.stderr);
  assert.equal(sorted(remote.stdout), sorted(local.stdout));
  // the line that killed its child fails on its first attempt (its child said it exits); the
  // lines after it in the block went again: a second attempt, counted over Redis too
  const failed = (out: string) => out.split('\n').filter((line) => line.includes('WorkerExitedError')).map((line) => /"line":(\d+),.*"attempts":(\d+)/.exec(line)!.slice(1));
  assert.equal(failed(remote.stdout), [['1501', '1'], ['2901', '1']]);
  assert.equal(failed(local.stdout), failed(remote.stdout));
  assert.ok((remote.stdout.match(/"attempts":2,/g)?.length ?? 0) > 0, 'lines run again after the death');
}));

it('lines that are not JSON fail alone, as in a local run, on version 2 children and on version 1 ones (Perl: the worker checks)', timed(90_000, async () => {
  const data = dir.write('bad.jsonl', '{"n":1}\n{oops\n\n[1,\n{"n":2}\nNaN\n');
  const perl = spawnSync('perl', ['-e', '1']).status === 0;
  if (!perl) console.log('skip (Perl part): perl not found');
  const specs = [specFile, ...(perl ? [dir.write('perl.json', JSON.stringify({ exec_type: { executable: 'perl', handler: fixture('perl_handler.pl') }, exec_info: {} }))] : [])];
  for (const spec of specs) {
    const worker = await startWorker(bin, redis.url, spec, '-p', '2');
    workers.push(worker);
    const remote = polytask('run', '-s', spec, '-d', data, '--redis', redis.url, '--keep-order');
    const local = polytask('run', '-s', spec, '-d', data, '-p', '2', '--keep-order');
    assert.is(remote.status, 1, remote.stderr);
    assert.is(remote.stdout, local.stdout);
    const results = remote.stdout.trim().split('\n').map((line) => JSON.parse(line) as { line: number; exit: number; error?: { name: string } });
    assert.is(results.length, 5);
    assert.equal(results.filter((r) => r.exit === 65).map((r) => [r.line, r.error?.name]), [[2, 'ParseError'], [4, 'ParseError'], [6, 'ParseError']]);
    // it would fail the same way again: not retried, as locally
    const retry = ['--keep-order', '--retries', '2', '--retry-on', 'error', '--retry-delay', '0', '--stats'];
    const retrying = polytask('run', '-s', spec, '-d', data, '--redis', redis.url, ...retry);
    assert.is(retrying.stdout, polytask('run', '-s', spec, '-d', data, '-p', '2', ...retry).stdout);
    // the Perl handler fails the two good lines (not numbers): retried twice each
    assert.match(retrying.stderr, spec === specFile ? ', 0 retries,' : ', 4 retries,');
    worker.child.kill('SIGTERM');
    assert.is(await worker.exited, 0);
  }
}));

it('worker --progress counts the items it ran; --stats prints its figures when it stops', timed(60_000, async () => {
  const worker = await startWorker(bin, redis.url, specFile, '-p', '2', '--progress', '--stats');
  workers.push(worker);
  const run = polytask('run', '-s', specFile, '-d', dir.write('progress.jsonl', lines(300, 0)), '--redis', redis.url);
  assert.is(run.status, 0, run.stderr);
  worker.child.kill('SIGTERM');
  assert.is(await worker.exited, 0);
  assert.match(worker.stderr(), /polytask: 300 done · [\d,]+ items\/s · 0 failed/);
  assert.match(worker.stderr(), /polytask: stats: 300 items in [\d.]+ s/);
}));

it('bad flags: one line naming the flag, exit 2', timed(30_000, async () => {
  const data = dir.write('flags.jsonl', lines(1, 0));
  const cases: [string[], string][] = [
    [['run', '-s', specFile, '-d', data, '--redis', 'http://x'], 'polytask: OptionError: --redis: expected a redis://, rediss:// or redis+unix:// URL, got "http://x"\n'],
    [['run', '-s', specFile, '-d', data, '--redis', redis.url, '-p', '2'], 'polytask: -p: set on the workers (polytask worker -p), not with --redis\n'],
    [['worker', '-s', specFile], 'polytask: worker needs --redis URL: where producers put the items; see polytask worker --help\n'],
    [['worker', '--redis', redis.url], 'polytask: worker needs -s,--spec FILE: the job spec (YAML or JSON); see polytask worker --help\n'],
    [['worker', '--redis', redis.url, '-s', specFile, '--module-root', dir.dir], 'polytask: worker runs a spec (-s) or JavaScript tasks (--module-root, --allow-inline), not both: start one worker of each\n'],
    [['worker', '--redis', redis.url, '--module-root', dir.dir, '--max-memory', '100'], 'polytask: --max-memory is for a spec\'s worker (-s), not with --module-root or --allow-inline\n'],
    [['worker', '--redis', redis.url, '--module-root', `${dir.dir}/nowhere`], `polytask: --module-root: not a folder: ${dir.dir}/nowhere\n`],
    [['worker', '--redis', redis.url, '--allow-inline'], 'polytask: OptionError: allowInline (--allow-inline) needs the shared secret in POLYTASK_SECRET (16 characters or more), on the producer and on the workers: inline code is signed with it\n'],
  ];
  for (const [args, message] of cases) {
    const result = polytask(...args);
    assert.is(result.stderr, message);
    assert.is(result.status, 2);
  }
}));

it('no worker for the spec: one line at once, exit 2', timed(30_000, async () => {
  const other = dir.write('other.yml', sleeperSpec.replace('{ n: item.n }', '{ m: item.n }'));
  const result = polytask('run', '-s', other, '-d', dir.write('none.jsonl', lines(3, 0)), '--redis', redis.url);
  assert.is(result.status, 2);
  assert.match(result.stderr, /^polytask: SetupError: no polytask worker is serving this spec on redis\+unix:\/\/\S+ \(queue spec-[0-9a-f]{16}\); start one with: polytask worker --redis URL -s SPEC\n$/);
  assert.is(result.stdout, '');
}));

it('Ctrl-C on the producer: exit 130, its waiting jobs removed, the worker free within a second', timed(60_000, async () => {
  const worker = await startWorker(bin, redis.url, specFile, '-p', '2');
  workers.push(worker);
  const queue = /queue (spec-[0-9a-f]+)/.exec(worker.stderr())![1]!;
  const run = startRun('-s', specFile, '-d', dir.write('slow.jsonl', lines(40, 5000)), '--redis', redis.url);
  await waitUntil(() => Number(redis.cli('llen', `polytask:${queue}:wait`)) > 0 || Number(redis.cli('llen', `polytask:${queue}:active`)) > 0, 20_000, 'jobs on the queue');
  await new Promise((resolve) => setTimeout(resolve, 500));
  run.child.kill('SIGINT');
  assert.is(await run.exited, 130, run.seen.err);
  assert.match(run.seen.err, 'polytask: interrupted');
  assert.is(redis.cli('llen', `polytask:${queue}:wait`).trim(), '0');
  // the worker's running items (5 s each) were dropped: a new run is answered at once
  const from = Date.now();
  const next = polytask('run', '-s', specFile, '-d', dir.write('one.jsonl', lines(1, 0)), '--redis', redis.url);
  assert.is(next.status, 0, next.stderr);
  assert.ok(Date.now() - from < 4000, `the next run took ${Date.now() - from} ms`);
}));

it('the producer killed with -9, then --resume: exactly one result per line', timed(90_000, async () => {
  workers.push(await startWorker(bin, redis.url, specFile, '-p', '2'));
  const data = dir.write('resume.jsonl', lines(120, 40));
  const out = `${dir.dir}/resume.out.jsonl`;
  const run = startRun('-s', specFile, '-d', data, '-o', out, '--redis', redis.url);
  await waitUntil(() => {
    try {
      return readFileSync(out, 'utf8').split('\n').length > 20;
    } catch {
      return false;
    }
  }, 30_000, 'some results in the file');
  run.child.kill('SIGKILL');
  await run.exited;
  const again = polytask('run', '-s', specFile, '-d', data, '-o', out, '--resume', '--redis', redis.url);
  assert.is(again.status, 0, again.stderr);
  const results = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { line: number; exit: number });
  assert.is(results.length, 120);
  assert.equal([...new Set(results.map((r) => r.line))].sort((a, b) => a - b), Array.from({ length: 120 }, (_, i) => i + 1));
}));

it('Redis gone for good: one line naming it, exit 1, within --redis-timeout', timed(60_000, async () => {
  const own = new RedisServer();
  await own.start();
  try {
    const worker = await startWorker(bin, own.url, specFile, '-p', '1');
    workers.push(worker);
    const run = startRun('-s', specFile, '-d', dir.write('lost.jsonl', lines(50, 200)), '--redis', own.url, '--redis-timeout', '2');
    await waitUntil(() => run.seen.out.length > 0, 20_000, 'the first result');
    await own.stop(true);
    const lostAt = Date.now();
    assert.is(await run.exited, 1);
    assert.ok(Date.now() - lostAt < 10_000, `gave up after ${Date.now() - lostAt} ms`);
    assert.match(run.seen.err, /^polytask: ConnectionError: lost Redis at redis\+unix:\/\/\S+ for more than 2 s \(.*\)\n/m);
  } finally {
    await own.close();
  }
}));

if (missing !== undefined) console.log(`skip polytask worker / run --redis tests: ${missing}`);
else it.run();
