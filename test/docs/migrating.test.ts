// The examples of docs/migrating.md (files under docs/examples/migrating/) run and print what
// the page says. Examples of features another branch brings (the exit_from_return rule, -n,
// --setup-timeout) are skipped, with the reason printed, only while `polytask run --help`
// does not list them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { bin, missingInterpreter, repoRoot, timed } from '../helpers.js';

const it = suite('docs/migrating.md examples');
const examples = path.join(repoRoot, 'docs', 'examples', 'migrating');
const limitMs = 60_000;
// a test may wait for the examples started before its own
const testMs = 120_000;

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

// Runs a command to its end (killed after limitMs), at most 3 at a time: most examples wait
// on timers or children more than they compute, so they overlap well
let running = 0;
const queued: (() => void)[] = [];
async function runLimited(args: string[], cwd: string, input?: string): Promise<Ran> {
  if (running >= 3) await new Promise<void>((resolve) => queued.push(resolve));
  running++;
  try {
    return await new Promise<Ran>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
      child.on('error', reject);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
      child.stdin.end(input);
    });
  } finally {
    running--;
    queued.shift()?.();
  }
}

// Each example file (tool/name.mjs) runs once, in its folder, started when first asked for
const started = new Map<string, Promise<Ran>>();
function example(file: string): Promise<Ran> {
  let run = started.get(file);
  if (run === undefined) {
    const full = path.join(examples, file);
    run = runLimited([full], path.dirname(full));
    started.set(file, run);
  }
  return run;
}

// An example that must exit 0; returns what it printed
async function output(file: string): Promise<string> {
  const r = await example(file);
  assert.is(r.status, 0, `${file} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

// `polytask ...` run in docs/examples/migrating/multirunner, as the page shows it
async function polytask(args: string[], input?: string): Promise<Ran & { results: Record<string, unknown>[] }> {
  const r = await runLimited([bin, ...args], path.join(examples, 'multirunner'), input);
  const results = r.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ...r, results };
}

const help = spawnSync(process.execPath, [bin, 'run', '--help'], { encoding: 'utf8', timeout: limitMs }).stdout;
// why an example of a feature still being built cannot run here, or undefined when it can
const missingFlag = (flag: string): string | undefined => (help.includes(flag) ? undefined : `\`polytask run --help\` does not list ${flag} yet`);
const noExitRule = missingFlag('exit-from-return');
const noN = missingFlag('--n-processes');
const noSetupTimeout = missingFlag('--setup-timeout');
const python = missingInterpreter(process.env.POLYTASK_PYTHON3 ?? 'python3');
if (python !== undefined) console.log(`skip the Python examples: ${python}`);

// Declares a test, or prints why it is skipped
function when(missing: string | undefined, name: string, ms: number, body: () => Promise<void>): void {
  if (missing !== undefined) console.log(`skip "${name}": ${missing}`);
  else it(name, timed(ms, body));
}

// start them all now; each test awaits its own
const prefetched = ['common/values.mjs', 'multirunner/job-runner.mjs', 'spychronous/plus-one.mjs', 'spychronous/options.mjs',
  'spychronous/instances.mjs', 'spychronous/coupling.mjs', 'spychronous/python.mjs', 'runner/runner.mjs', 'inparallel/hello.mjs',
  'inparallel/servers.mjs', 'inparallel/cancel.mjs', 'inparallel/closures.mjs', 'inparallel/errors.mjs', 'llll/subprocess.mjs',
  'llll/instance.mjs', 'llll/pool.mjs', 'llll/generator.mjs'];
for (const file of prefetched) {
  if (python === undefined || !['common/values.mjs', 'multirunner/job-runner.mjs', 'spychronous/python.mjs', 'llll/instance.mjs', 'llll/pool.mjs'].includes(file)) {
    example(file).catch(() => {});
  }
}

it('the page shows every example file whole, as it is on disk', () => {
  const page = readFileSync(path.join(repoRoot, 'docs', 'migrating.md'), 'utf8');
  const shown = new Map<string, string>();
  for (const m of page.matchAll(/^\[`examples\/migrating\/([^`]+)`\]\([^)]*\):\n\n```\w*\n([\s\S]*?)^```$/gm)) shown.set(m[1]!, m[2]!);
  const files = readdirSync(examples, { recursive: true, encoding: 'utf8' })
    .filter((file) => statSync(path.join(examples, file)).isFile())
    .sort();
  assert.equal([...shown.keys()].sort(), files);
  for (const [file, text] of shown) assert.is(text, readFileSync(path.join(examples, file), 'utf8'), `${file} differs from the page`);
  // every script shown is one this file runs
  const scripts = files.filter((f) => f.endsWith('.mjs') && !['spychronous/cat.mjs', 'inparallel/get-os.mjs'].includes(f));
  assert.equal(scripts, [...prefetched, 'spychronous/ctrl-c.mjs'].sort());
});

// --- What changes for every tool

when(python, 'common/values.mjs: structured clone in threads, JSON for specs', testMs, async () => {
  assert.is(await output('common/values.mjs'), [
    'thread: [ 5, 10 ] -> [ 5, 10 ]',
    "thread: Map(1) { 1 => 'a' } -> Map(1) { 1 => 'a' }",
    'thread: Set(1) { 1 } -> Set(1) { 1 }',
    'thread: 1970-01-01T00:00:00.000Z -> 1970-01-01T00:00:00.000Z',
    'thread: 10n -> 10n',
    'thread: undefined -> undefined',
    'thread: Point { x: 1, y: 2 } -> { x: 1, y: 2 }',
    'thread: a function: DataCloneError',
    'python returns tuple: [1,2]',
    'python returns int keys: {"1":"a"}',
    'python returns set: SerializationError',
    'python returns bytes: SerializationError',
    'python returns big int: 9007199254740992',
    'python returns float: 2',
    'python returns nan: SerializationError',
    'python gets a Map: {}',
    "python gets a Date: '1970-01-01T00:00:00.000Z'",
    'python gets NaN: None',
    'python gets undefined: None',
    'python gets a BigInt: the item cannot be sent as JSON: Do not know how to serialize a BigInt',
    '',
  ].join('\n'));
});

// --- multirunner

when(python, 'multirunner: its spec and handler run unchanged; the return value is the exit status', testMs, async () => {
  const r = await polytask(['run', '-s', 'spec.yml', '-d', 'items.jsonl', '-p', '2', '--keep-order']);
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stdout, [
    '{"line":1,"data":{"name": "ada"},"exit":3,"attempts":1,"value":3,"stdout":"hello ada\\n","stderr":""}',
    '{"line":2,"data":{"name": ""},"exit":0,"attempts":1,"value":0,"stdout":"hello \\n","stderr":""}',
    '',
  ].join('\n'));
  assert.match(r.stderr, '1 of 2 items failed');
  // multirunner's own form, without "run"
  const bare = await polytask(['-s', 'spec.yml', '-d', 'items.jsonl', '-p', '2', '--keep-order']);
  assert.is(bare.stdout, r.stdout);
});

it('multirunner: a Node handler returning 25 gives exit 25 and status 1', timed(testMs, async () => {
  const r = await polytask(['run', '-s', 'square.yml'], '5\n');
  assert.is(r.status, 1, r.stderr);
  assert.equal(r.results.map((x) => [x.exit, x.value]), [[25, 25]]);
  // once the rule is switchable, the end-of-run message points at the switch
  if (noExitRule === undefined) assert.match(r.stderr, '--no-exit-from-return');
}));

when(noExitRule, 'multirunner: --no-exit-from-return keeps the value and exits 0', testMs, async () => {
  const r = await polytask(['run', '-s', 'square.yml', '--no-exit-from-return'], '5\n');
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.results.map((x) => [x.exit, x.value]), [[0, 25]]);
});

when(noExitRule ?? python, 'multirunner: exit_from_return: false in the spec', testMs, async () => {
  const r = await polytask(['run', '-s', 'value-spec.yml', '-d', 'items.jsonl', '--keep-order']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.results.map((x) => [x.exit, x.value]), [[0, 3], [0, 0]]);
});

when(noN ?? python, 'multirunner: -n and --n-processes choose the number of children', testMs, async () => {
  for (const flag of ['-n', '--n-processes']) {
    const r = await polytask(['-s', 'spec.yml', '-d', 'items.jsonl', flag, '2', '--keep-order']);
    assert.is(r.status, 1, r.stderr);
    assert.equal(r.results.map((x) => x.exit), [3, 0]);
  }
});

when(noSetupTimeout ?? python, 'multirunner: --setup-timeout', testMs, async () => {
  const r = await polytask(['run', '-s', 'spec.yml', '-d', 'items.jsonl', '--setup-timeout', '60', '--keep-order']);
  assert.is(r.status, 1, r.stderr);
  assert.equal(r.results.map((x) => x.exit), [3, 0]);
});

when(python, 'multirunner/job-runner.mjs', testMs, async () => {
  assert.is(await output('multirunner/job-runner.mjs'), [
    '0 3 {"name":"ada"} "hello ada\\n"',
    '1 5 {"name":"grace"} "hello grace\\n"',
    '2 0 {"name":""} "hello \\n"',
    '3 done, 2 failed, 2 children',
    '',
  ].join('\n'));
});

// --- spychronous

it('spychronous/plus-one.mjs', timed(testMs, async () => {
  assert.is(await output('spychronous/plus-one.mjs'), '[ 2, 3, 4 ]\n[ 2, 4, 6 ]\n[ 2, 4, 6 ]\n');
}));

it('spychronous/options.mjs', timed(testMs, async () => {
  const out = (await output('spychronous/options.mjs')).split('\n');
  assert.equal(out.filter((l) => l.startsWith('logged:')).sort(), [
    'logged: polytask: item 1 ("boom") failed: RangeError: bad item boom',
    'logged: polytask: item 2 ("stuck") failed: TimeoutError: item timed out after 5000 ms',
  ]);
  assert.equal(out.filter((l) => !l.startsWith('logged:')), ["[ 'A', undefined, undefined, 'B' ]", '1 boom RangeError', '2 stuck TimeoutError', '']);
}));

it('spychronous/instances.mjs', timed(testMs, async () => {
  assert.is(await output('spychronous/instances.mjs'), "TypeError: cat.meow is not a function\n[ 'meow, my name is Dave' ]\n[ 'meow, my name is Dave' ]\n");
}));

it('spychronous/coupling.mjs', timed(testMs, async () => {
  assert.is(await output('spychronous/coupling.mjs'), '[ [ 5, 10 ] ]\n[ [ 5, 10 ], [ 6, 12 ] ]\n');
}));

when(python, 'spychronous/python.mjs', testMs, async () => {
  assert.is(await output('spychronous/python.mjs'), [
    '[ [ 5, 10 ], [ 6, 12 ] ]',
    "[ { '5': 'odd' }, { '6': 'even' } ]",
    'SerializationError (SerializationError): return value of type set is not JSON-serialisable: Object of type set is not JSON serializable',
    '',
  ].join('\n'));
});

it('spychronous/ctrl-c.mjs: one SIGINT runs the finally block and exits 130', timed(testMs, async () => {
  const child = spawn(process.execPath, [path.join(examples, 'spychronous', 'ctrl-c.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
      if (out.includes('press Ctrl-C')) resolve();
    }));
    // the job has started its workers once the line is out; give them a moment to be busy
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGINT');
    assert.is(await exited, 130, err);
    assert.match(out, /press Ctrl-C\n\d\d:\d\d:\d\d user issued Ctrl-C\n$/);
    assert.is(err, 'AbortError: interrupted by Ctrl-C (SIGINT)\n');
  } finally {
    child.kill('SIGKILL');
  }
}));

// --- runner

it('runner/runner.mjs', timed(testMs, async () => {
  assert.is(await output('runner/runner.mjs'), 'hello, world\nover the socket\nsecond: a line\nProcessExistsError\necho second\n');
}));

// --- inparallel

it('inparallel/hello.mjs', timed(testMs, async () => {
  assert.match(await output('inparallel/hello.mjs'), /^(pending|running)\nHello, Emily!\nHello, Emily!\n$/);
}));

it('inparallel/servers.mjs', timed(testMs, async () => {
  const out = (await output('inparallel/servers.mjs')).trimEnd().split('\n');
  const os = spawnSync('uname', ['-s'], { encoding: 'utf8' }).stdout.trim();
  assert.is(out[0], '12 answers; 0 left in the array');
  assert.is(out.at(-1), 'never more than 3 in flight');
  const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
  assert.equal(out.slice(1, -1).sort(), names.map((n) => `${n}.local: ${os}`));
}));

it('inparallel/cancel.mjs: cancel() stops a running call', timed(testMs, async () => {
  assert.is(await output('inparallel/cancel.mjs'), 'running\ntrue cancelled\nCancelledError\nfile written: false\nwritten false\n');
}));

it('inparallel/closures.mjs', timed(testMs, async () => {
  assert.is(await output('inparallel/closures.mjs'), [
    'the task function refers to `multiplier` from its enclosing scope, which is not available in the worker',
    '6',
    'true',
    'SyntaxError',
    '',
  ].join('\n'));
}));

it('inparallel/errors.mjs', timed(testMs, async () => {
  assert.is(await output('inparallel/errors.mjs'), 'Error ECONNREFUSED cannot reach alpha.local\n');
}));

// --- llll

it('llll/subprocess.mjs', timed(testMs, async () => {
  const out = (await output('llll/subprocess.mjs')).trimEnd().split('\n');
  // stdout and stderr lines come through two pipes: their order between the two may vary
  assert.equal(out.slice(0, 3).sort(), ['err: two', 'out: one', 'out: three']);
  assert.ok(out.indexOf('out: one') < out.indexOf('out: three'));
  assert.equal(out.slice(3), ['exited 0; collected "one\\nthree\\n" and "two\\n"', 'got hello', 'SIGTERM']);
}));

when(python, 'llll/instance.mjs', testMs, async () => {
  assert.is(await output('llll/instance.mjs'), [
    'hello!',
    "{ got: [ 1, 2 ], as: 'list', pair: [ 1, 2 ] }",
    "{ got: { '1': 'a' }, as: 'dict', pair: [ 1, 2 ] }",
    'ok, stopped',
    '',
  ].join('\n'));
});

when(python, 'llll/pool.mjs', testMs, async () => {
  assert.is(await output('llll/pool.mjs'), '55\n1 1 2 3 5 8 13 21 34 55 89 144 233 377 610 987 1597 2584 4181 6765\ntrue\ntrue\n');
});

it('llll/generator.mjs', timed(testMs, async () => {
  assert.is(await output('llll/generator.mjs'), '7 values\n');
}));

it.run();
