// Input with malformed JSON, blank lines, a 50 MB line and a UTF-8 byte order mark: every
// non-blank line gives exactly one result, the big item makes the round trip whole
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { countItems, faultRuntimes, runCli, specFor, waitForNoSurvivors, writeFile } from './common.js';
import { timed } from '../helpers.js';

const big = 'x'.repeat(50 * 1024 * 1024);

for (const runtime of faultRuntimes()) {
  const it = suite(`bad input on ${runtime.name}`);

  it('malformed lines, blank lines, a BOM and a 50 MB line', timed(120_000, async () => {
    const input = `\ufeff"first"\n\n{not json\n   \n${JSON.stringify({ big })}\r\n[1, 2\n"last"`;
    const file = writeFile(`bad-${runtime.name}.jsonl`, input);
    const run = runCli(['-s', specFor(runtime, 'echo'), '-d', file, '-p', '2', '--keep-order'], '', {}, 110_000);
    assert.is(run.status, 1, run.stderr.slice(0, 2000));
    assert.is(run.results.length, countItems(input));
    assert.equal(run.results.map((r) => r.line), [1, 3, 5, 6, 7]);
    assert.equal(run.results.map((r) => r.exit), [0, 65, 0, 65, 0]);
    assert.is(run.results[0]!.value, 'first', 'the byte order mark is not part of the first item');
    assert.is(((run.results[2]!.value as { big: string }).big).length, big.length);
    for (const bad of [run.results[1]!, run.results[3]!]) {
      assert.is((bad.error as { name: string }).name, 'ParseError');
      assert.match((bad.error as { message: string }).message, `line ${bad.line as number}`);
    }
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it('lines only a strict parser refuses fail alone, as ParseErrors, and are not retried', timed(60_000, async () => {
    // the children decode each line; the Python handler must refuse what Python's json accepts
    const bad = ['{"a": 1} x', 'NaN', '[Infinity]', '-Infinity', '{"a": 1}}', '"open', '{"a": [1,]}'];
    const input = ['"first"', ...bad, '{"b": 2}', ' [3] '].join('\n') + '\n';
    const file = writeFile(`strict-${runtime.name}.jsonl`, input);
    const run = runCli(['-s', specFor(runtime, 'echo'), '-d', file, '-p', '2', '--keep-order', '--retries', '2', '--retry-on', 'error', '--stats'], '');
    assert.is(run.status, 1, run.stderr.slice(0, 2000));
    assert.equal(run.results.map((r) => r.line), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(run.results.map((r) => r.exit), [0, 65, 65, 65, 65, 65, 65, 65, 0, 0]);
    assert.equal(run.results.map((r) => r.value), ['first', undefined, undefined, undefined, undefined, undefined, undefined, undefined, { b: 2 }, [3]]);
    run.results.slice(1, 8).forEach((r, i) => {
      assert.is(r.data, bad[i], 'a bad line is echoed as a string');
      assert.is(r.attempts, 0);
      assert.is((r.error as { name: string }).name, 'ParseError');
      assert.match((r.error as { message: string }).message, `line ${i + 2}`);
    });
    assert.match(run.stderr, '0 retries');
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it.run();
}
