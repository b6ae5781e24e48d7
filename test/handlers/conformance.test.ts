// The bundled handlers agree: the same items through `polytask run` on Python 2, Python 3 and
// Node give the same results field by field (values, errors, printed output, crashes, timeouts)
// with the keys of every output line in the same order. The Perl test handler (a handler
// written from docs/protocol.md, which doubles numbers and refuses anything else) gives the same
// fields for what it can do; its keys come in its own (sorted) order, copied as it wrote them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { bin, missingInterpreter, scratch, timed } from '../helpers.js';

const nodeCode = `export async function main(e) {
  switch (e.op) {
    case 'double': console.log('saw', e.n); return e.n * 2;
    case 'value': return e.v;
    case 'print': process.stdout.write(e.out + '\\n'); process.stderr.write(e.err + '\\n'); return null;
    case 'raise': throw new TypeError(e.msg);
    case 'crash': process.exit(3);
    case 'hang': await new Promise((r) => setTimeout(r, 60000));
  }
}`;
const pythonCode = `import sys, os, time
def main(e, context):
    op = e['op']
    if op == 'double':
        print('saw %d' % e['n'])
        return e['n'] * 2
    if op == 'value': return e['v']
    if op == 'print':
        sys.stdout.write(e['out'] + '\\n')
        sys.stderr.write(e['err'] + '\\n')
        return None
    if op == 'raise': raise TypeError(e['msg'])
    if op == 'crash': os._exit(3)
    if op == 'hang': time.sleep(60)
`;
const items = [
  { op: 'double', n: 21 },
  { op: 'value', v: { a: [1, 'x', null, true], b: 'é ☃' } },
  { op: 'print', out: 'to stdout', err: 'to stderr' },
  { op: 'raise', msg: 'bad item' },
  { op: 'crash' },
  { op: 'hang' },
];

interface Line { keys: string[]; fields: Record<string, unknown> }

function run(specYaml: string, input: unknown[]): Line[] {
  const dir = scratch('polytask-conformance-');
  const spec = dir.write('spec.yml', specYaml);
  const data = dir.write('items.jsonl', input.map((i) => JSON.stringify(i)).join('\n') + '\n');
  const r = spawnSync(process.execPath, [bin, 'run', '-s', spec, '-d', data, '-p', '2', '--timeout', '2', '--keep-order', '--no-exit-from-return'], { encoding: 'utf8', timeout: 60_000 });
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, input.length, r.stderr);
  return lines.map((text) => {
    const fields = JSON.parse(text) as Record<string, unknown>;
    return { keys: Object.keys(fields), fields };
  });
}

const yaml = (execType: string, code: string) => `exec_type: ${execType}\nexec_info:\n  code: |\n${code.split('\n').map((l) => `    ${l}`).join('\n')}\n`;
const runtimes = [
  { name: 'node', spec: yaml('node', nodeCode), missing: undefined },
  { name: 'python3', spec: yaml('python3', pythonCode), missing: missingInterpreter('python3') },
  { name: 'python2', spec: yaml('python2', pythonCode), missing: missingInterpreter('python2') },
].filter((r) => {
  if (r.missing !== undefined) console.log(`skip ${r.name} in the conformance test: ${r.missing}`);
  return r.missing === undefined;
});

// What must be equal across runtimes: everything but the stack text, which is the language's own
function comparable(line: Line): Record<string, unknown> {
  const { error, stderr, ...rest } = line.fields as { error?: { name: string; message: string; stack?: string }; stderr: string; attempts?: number };
  if (error === undefined) return { ...rest, stderr };
  // a handler's failure: its stderr is what it printed, then the stack (the parent's own
  // failures, a crash or a timeout, have no stack)
  const { stack } = error;
  // an item queued behind a crash on the same child runs again: its attempts depend on timing
  if (stack === undefined) delete rest.attempts;
  if (stack !== undefined) assert.ok(stderr.endsWith(stack.endsWith('\n') ? stack : `${stack}\n`), `stderr ends with the stack: ${JSON.stringify(line.fields)}`);
  return { ...rest, error: { name: error.name, message: error.message } };
}

test('the bundled handlers give the same fields in the same order for the same items', timed(120_000, async () => {
  const results = runtimes.map((r) => ({ name: r.name, lines: run(r.spec, items) }));
  const [first, ...others] = results;
  assert.ok(first !== undefined);
  // what each item gives, on the first runtime
  const f = first.lines.map(comparable);
  assert.equal(f[0], { line: 1, data: items[0], exit: 0, attempts: 1, value: 42, stdout: 'saw 42\n'.replace('42', '21'), stderr: '' });
  assert.equal(f[1], { line: 2, data: items[1], exit: 0, attempts: 1, value: items[1]!.v, stdout: '', stderr: '' });
  assert.equal(f[2], { line: 3, data: items[2], exit: 0, attempts: 1, value: null, stdout: 'to stdout\n', stderr: 'to stderr\n' });
  assert.equal(f[3], { line: 4, data: items[3], exit: 1, attempts: 1, error: { name: 'TypeError', message: 'bad item' }, stdout: '' });
  assert.equal(f[4], { line: 5, data: items[4], exit: 3, error: { name: 'WorkerExitedError', message: 'the child running this item exited with status 3' }, stdout: '' });
  assert.equal({ ...f[5], error: undefined }, { line: 6, data: items[5], exit: 124, timedOut: true, error: undefined, stdout: '' });
  assert.is((f[5]!.error as { name: string }).name, 'TimeoutError');
  for (const other of others) {
    other.lines.forEach((line, i) => {
      assert.equal(line.keys, first.lines[i]!.keys, `${other.name}, line ${i + 1}: keys in the same order as ${first.name}'s`);
      assert.equal(comparable(line), f[i], `${other.name}, line ${i + 1}: the same fields as ${first.name}'s`);
    });
  }
}));

const perl = spawnSync('perl', ['-e', '1']).status === 0;
if (!perl) console.log('skip the Perl handler in the conformance test: perl not found');
else {
  test('the Perl test handler gives the same fields as the bundled ones for what it does (doubling numbers)', timed(60_000, async () => {
    const perlSpec = `exec_type:\n  executable: perl\n  handler: ${JSON.stringify(bin.replace(/bin\/polytask\.js$/, 'test/fixtures/perl_handler.pl'))}\nexec_info: {}\n`;
    const doubling = `export function main(e) {
  console.log('perl saw ' + (typeof e === 'object' ? JSON.stringify(e) : e));
  if (typeof e !== 'number') { const error = new TypeError('not a number: ' + JSON.stringify(e)); error.stack = error.name + ': ' + error.message + '\\n'; throw error; }
  return e * 2;
}`;
    const input = [21, 2.5, 'x'];
    const perlLines = run(perlSpec, input);
    const nodeLines = run(yaml('node', doubling), input);
    perlLines.forEach((line, i) => {
      const theirs = nodeLines[i]!.fields as { exit: number; stderr: string };
      // the Perl handler fails with exit 2, a JavaScript throw with 1, and it does not copy the
      // stack to stderr as the bundled handlers do: the rest is the same
      const failed = theirs.exit !== 0;
      assert.equal({ ...line.fields, ...(failed ? { exit: theirs.exit, stderr: theirs.stderr } : {}) }, theirs, `item ${i + 1}`);
      // its keys: the parent's first, then the handler's as it wrote them
      assert.equal(line.keys.slice(0, 4), ['line', 'data', 'exit', 'attempts']);
    });
  }));
}

test.run();
