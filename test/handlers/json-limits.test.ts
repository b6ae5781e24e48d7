// What JSON cannot carry, the same way in every handler: a NaN or an Infinity anywhere in a
// return value is that item's SerializationError (never a silent null), and an item nested
// deeper than the handler's decoder can go is that item's ParseError, the child living on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessPool } from '../../src/pool/process/pool.js';
import { resolveSpec } from '../../src/spec/load.js';
import type { JobSpec } from '../../src/spec/schema.js';
import { lines, runCli, writeFile } from '../faults/common.js';
import { timed } from '../helpers.js';
import { availableRuntimes } from '../runtimes.js';

// a handler per runtime: 'nested' and 'top' return what JSON cannot carry, anything else comes back
const code: Record<string, string> = {
  node: 'export function main(e) { if (e === "nested") return { a: Infinity, b: [NaN] }; if (e === "top") return -Infinity; if (Array.isArray(e)) return "deep"; return e; }',
  python: 'def main(e, c):\n    if e == "nested":\n        return {"a": float("inf"), "b": [float("nan")]}\n    if e == "top":\n        return float("-inf")\n    if isinstance(e, list):\n        return "deep"\n    return e\n',
};
const specOf = (name: string): JobSpec => ({ exec_type: name as JobSpec['exec_type'], exec_info: { code: name === 'node' ? code.node! : code.python! } });

for (const runtime of availableRuntimes()) {
  const it = suite(`JSON limits on the ${runtime.name} handler`);
  let pool: ProcessPool | undefined;
  it.after.each(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('NaN and Infinity, nested or not, are a SerializationError; null still comes back', timed(20_000, async () => {
    pool = new ProcessPool(resolveSpec(specOf(runtime.name)), { processes: 1, onWorkerOutput: () => {} });
    for (const item of ['nested', 'top']) {
      const r = await pool.result(item);
      assert.is(r.exit, 1, `${item}: ${JSON.stringify(r)}`);
      assert.is(r.error?.name, 'SerializationError');
      assert.match(r.error?.message ?? '', 'is not JSON-serialisable');
      assert.match(r.stderr, 'SerializationError: ');
      assert.not.ok('value' in r, `${item}: no value`);
    }
    const plain = await pool.result({ a: null, b: [1, null], c: {} });
    assert.is(plain.exit, 0);
    assert.equal(plain.value, { a: null, b: [1, null], c: {} });
  }));

  it('100,000 nested brackets are that item\'s failure; the child lives and no item runs twice', timed(60_000, async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const spec = writeFile(`deep-${runtime.name}.json`, JSON.stringify(specOf(runtime.name)));
    const run = runCli(['-s', spec, '-p', '1'], `${lines(['one'])}${deep}\n${lines(['two'])}`);
    assert.is(run.results.length, 3, run.stderr);
    const [one, bad, two] = run.results as { exit: number; attempts: number; value?: unknown; error?: { name: string; message: string } }[];
    assert.equal([one!.exit, one!.value, one!.attempts], [0, 'one', 1]);
    assert.equal([two!.exit, two!.value, two!.attempts], [0, 'two', 1], 'the next item ran once, in the same child');
    assert.is(bad!.attempts, 1);
    if (runtime.name === 'node') {
      // V8's JSON.parse has no depth limit: the item reaches the handler
      assert.equal([bad!.exit, bad!.value], [0, 'deep']);
    } else {
      assert.is(bad!.exit, 65);
      assert.is(bad!.error?.name, 'ParseError');
      assert.match(bad!.error?.message ?? '', 'nested too deeply');
    }
    assert.not.match(run.stderr, 'exited with status');
  }));

  it.run();
}
