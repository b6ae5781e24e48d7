// Return values JSON cannot carry (NaN, Infinity, a set, a circular structure, an object of a
// class): each gives its item a clear SerializationError, and the child goes on
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, lines, runCli, specFor, waitForNoSurvivors } from './common.js';
import { timed } from '../helpers.js';

for (const runtime of faultRuntimes()) {
  const it = suite(`unserialisable return values on ${runtime.name}`);

  it('give a per-item SerializationError naming the value', timed(30_000, async () => {
    const items = ['nan', 'inf', 'set', 'nested set', 'circular', 'object', 'fine'];
    const run = runCli(['-s', specFor(runtime, 'unserialisable'), '-p', '1', '--keep-order'], lines(items));
    assert.is(run.status, 1, run.stderr);
    assert.is(run.results.length, items.length);
    for (const r of run.results.slice(0, 6)) {
      const error = r.error as { name: string; message: string };
      assert.is(r.exit, 1, JSON.stringify(r));
      assert.is(error.name, 'SerializationError', JSON.stringify(r));
      assert.match(error.message, /not JSON-serialisable/);
      assert.is(r.value, undefined);
    }
    // a value that holds itself is named as such, not as a value nested too deeply
    assert.match((run.results[4]!.error as { message: string }).message, /circular/i);
    assert.equal(run.results[6], { ...run.results[6], exit: 0, value: 'fine' });
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it.run();
}
