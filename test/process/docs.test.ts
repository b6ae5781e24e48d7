// The examples of docs/toolkit.md run and print what the page says
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { Subprocess } from '../../src/process/subprocess.js';
import { missingInterpreter, repoRoot, timed } from '../helpers.js';

const it = suite('docs/toolkit.md examples');

async function example(name: string): Promise<string> {
  const p = new Subprocess([process.execPath, path.join(repoRoot, 'docs', 'examples', 'toolkit', `${name}.mjs`)], { collectOutput: true, stdin: 'ignore' });
  try {
    const exit = await p.wait();
    assert.is(exit.code, 0, `${name}.mjs failed: ${exit.stderr}`);
    return exit.stdout!;
  } finally {
    p.kill('SIGKILL');
  }
}

it('subprocess.mjs', timed(20_000, async () => {
  const out = await example('subprocess');
  assert.match(out, 'stdout: one\nstderr: two\nstdout: three (no newline)\nexited: code 0, signal null\n');
  assert.match(out, 'cat said: input\ncat said: more input\n');
  assert.match(out, "TimeoutError the subprocess timed out after 200 ms { code: null, signal: 'SIGTERM' }\n");
}));

it('runner.mjs', timed(20_000, async () => {
  const out = await example('runner');
  assert.match(out, 'cat: hello\n');
  assert.match(out, 'echo: over the socket\n');
  assert.match(out, 'cat2: from cat2\n');
  assert.match(out, 'ProcessExistsError\nafter terminate: EndpointClosedError\n');
}));

const python = missingInterpreter('python3');
if (python !== undefined) console.log(`skip the Python examples: ${python}`);
else {
  it('instance.mjs', timed(20_000, async () => {
    assert.is(await example('instance'), "hello!\nok, stopped\n{ sum: 3 }\n");
  }));

  it('fib.mjs', timed(60_000, async () => {
    const fibs = [1, 1];
    while (fibs.length < 32) fibs.push(fibs[fibs.length - 1]! + fibs[fibs.length - 2]!);
    const line = fibs.join(' ');
    assert.is(await example('fib'), `${line}\n${line}\n`);
  }));
}

it.run();
