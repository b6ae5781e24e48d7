import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Subprocess, type SubprocessExit } from '../../src/process/subprocess.js';
import { AbortError, EndpointClosedError, OptionError, SetupError, TimeoutError } from '../../src/errors.js';
import { isAlive, missingInterpreter, timed } from '../helpers.js';

const it = suite('Subprocess');
const started: Subprocess[] = [];
function sub(...args: ConstructorParameters<typeof Subprocess>): Subprocess {
  const p = new Subprocess(...args);
  started.push(p);
  return p;
}
it.after.each(async () => {
  for (const p of started.splice(0)) {
    p.kill('SIGKILL');
    await p.wait().catch(() => {});
    if (p.pid !== undefined) assert.not.ok(isAlive(p.pid), `pid ${p.pid} is reaped`);
  }
});

const node = process.execPath;

it('calls back once per line, the last one without a newline too, and never with an empty end', timed(10_000, async () => {
  const out: string[] = [];
  const err: string[] = [];
  const exit = await sub([node, '-e', 'process.stdout.write("a\\nb\\n\\nc"); process.stderr.write("e1\\r\\ne2")'], {
    onStdoutLine: (l) => out.push(l), onStderrLine: (l) => err.push(l),
  }).wait();
  assert.equal(out, ['a', 'b', '', 'c']);
  assert.equal(err, ['e1', 'e2']);
  assert.equal(exit, { code: 0, signal: null });
}));

it('delivers every line written just before the exit, before onExit', timed(10_000, async () => {
  const out: string[] = [];
  let linesAtExit = -1;
  const p = sub(['sh', '-c', 'seq 0 4999; exit 3'], {
    onStdoutLine: (l) => out.push(l), onExit: () => (linesAtExit = out.length),
  });
  const exit = await p.wait();
  assert.is(exit.code, 3);
  assert.is(out.length, 5000);
  assert.is(out[4999], '4999');
  assert.is(linesAtExit, 5000);
}));

it('collects the whole output when asked, and reports it to onExit and wait()', timed(10_000, async () => {
  let reported: SubprocessExit | undefined;
  const exit = await sub([node, '-e', 'console.log("out"); console.error("err"); process.stdout.write("tail")'], {
    collectOutput: true, onExit: (e) => (reported = e),
  }).wait();
  assert.equal(exit, { code: 0, signal: null, stdout: 'out\ntail', stderr: 'err\n' });
  assert.equal(reported, exit);
}));

it('a Python traceback arrives on the stderr lines with a non-zero exit', timed(10_000, async () => {
  const missing = missingInterpreter('python3');
  if (missing !== undefined) {
    console.log(`skip traceback test: ${missing}`);
    return;
  }
  const err: string[] = [];
  const exit = await sub(['python3', '-c', 'print("before")\n1 / 0'], { onStderrLine: (l) => err.push(l), collectOutput: true }).wait();
  assert.is(exit.code, 1);
  assert.is(exit.stdout, 'before\n');
  assert.is(err[0], 'Traceback (most recent call last):');
  assert.is(err[err.length - 1], 'ZeroDivisionError: division by zero');
}));

it('write() and closeStdin() feed the child; lines() iterates the stdout lines', timed(10_000, async () => {
  const p = sub(['cat']);
  const lines = p.lines();
  p.write('one\ntw');
  p.write(Buffer.from('o\nthree'));
  p.closeStdin();
  const seen: string[] = [];
  for await (const line of lines) seen.push(line);
  assert.equal(seen, ['one', 'two', 'three']);
  assert.equal(await p.wait(), { code: 0, signal: null });
  assert.throws(() => p.write('late\n'), (e: unknown) => e instanceof EndpointClosedError);
}));

it('kill() ends the child with a signal and it is reaped', timed(10_000, async () => {
  const p = sub(['sleep', '60']);
  assert.ok(p.pid !== undefined && isAlive(p.pid));
  assert.ok(p.kill());
  const exit = await p.wait();
  assert.equal(exit, { code: null, signal: 'SIGTERM' });
  assert.not.ok(isAlive(p.pid!));
  assert.not.ok(p.kill(), 'a second kill does nothing');
}));

it('takes argument arrays without a shell; a string needs shell: true', timed(10_000, async () => {
  const out: string[] = [];
  await sub(['echo', '$HOME; `id`'], { onStdoutLine: (l) => out.push(l) }).wait();
  assert.equal(out, ['$HOME; `id`']);
  assert.throws(() => new Subprocess('echo hi'), (e: unknown) => e instanceof OptionError && /`command`/.test((e as Error).message));
  const shelled: string[] = [];
  await sub('echo a && echo b', { shell: true, onStdoutLine: (l) => shelled.push(l) }).wait();
  assert.equal(shelled, ['a', 'b']);
}));

it('cwd and env reach the child', timed(10_000, async () => {
  const exit = await sub(['sh', '-c', 'pwd; echo "$POLYTASK_TEST_VALUE"'], { cwd: '/tmp', env: { ...process.env, POLYTASK_TEST_VALUE: 'v1' }, collectOutput: true }).wait();
  assert.is(exit.stdout, '/tmp\nv1\n');
}));

it('a command that cannot start rejects wait() with a SetupError', timed(10_000, async () => {
  const p = sub(['/nonexistent/command']);
  try {
    await p.wait();
    assert.unreachable('wait() should reject');
  } catch (error) {
    assert.instance(error, SetupError);
    assert.match((error as Error).message, '/nonexistent/command');
  }
  assert.throws(() => p.write('x'), (e: unknown) => e instanceof EndpointClosedError);
}));

it('await using: a child still running at the end of the block is ended and reaped', timed(10_000, async () => {
  let pid: number | undefined;
  {
    await using p = new Subprocess(['sleep', '30']);
    pid = p.pid;
    assert.ok(pid !== undefined && isAlive(pid));
  }
  assert.not.ok(isAlive(pid!), 'the child is gone when the block ends');
}));

it('signal: an abort stops the child, and wait() rejects with an AbortError caused by the reason, with the exit', timed(15_000, async () => {
  const controller = new AbortController();
  const exits: SubprocessExit[] = [];
  const p = sub([node, '-e', 'setInterval(() => {}, 1000)'], { signal: controller.signal, onExit: (exit) => exits.push(exit) });
  const reason = new Error('the user went away');
  setTimeout(() => controller.abort(reason), 200);
  const error = await p.wait().then(() => undefined, (e: unknown) => e as AbortError & { exit: SubprocessExit });
  assert.instance(error, AbortError);
  assert.is(error!.cause, reason);
  assert.is(error!.exit.signal, 'SIGTERM');
  assert.equal(exits, [error!.exit], 'onExit still gets the exit');
  assert.not.ok(isAlive(p.pid!));
  const early = sub([node, '-e', 'setInterval(() => {}, 1000)'], { signal: AbortSignal.abort('before') });
  assert.is(await early.wait().then(() => undefined, (e: Error) => e.cause), 'before', 'an aborted signal stops it at once');
}));

it('timeout: a child that runs longer is stopped; wait() rejects with a TimeoutError; a child that ends in time is untouched', timed(15_000, async () => {
  const slow = sub([node, '-e', 'setInterval(() => {}, 1000)'], { timeout: 300 });
  const error = await slow.wait().then(() => undefined, (e: unknown) => e as TimeoutError & { exit: SubprocessExit });
  assert.instance(error, TimeoutError);
  assert.is(error!.message, 'the subprocess timed out after 300 ms');
  assert.is(error!.exit.signal, 'SIGTERM');
  const quick = sub([node, '-e', 'console.log("done")'], { timeout: 10_000, signal: new AbortController().signal, collectOutput: true });
  assert.equal(await quick.wait(), { code: 0, signal: null, stdout: 'done\n', stderr: '' });
  assert.throws(() => sub(['true'], { timeout: 0 }), (e: Error) => e instanceof OptionError && /`timeout` option/.test(e.message));
}));

it.run();
