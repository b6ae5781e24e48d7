// A handler that leaks memory with every item: --max-memory replaces its child between items,
// and no item fails
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, lines, runCli, specFor, waitForNoSurvivors } from './common.js';
import { timed } from '../helpers.js';

for (const runtime of faultRuntimes()) {
  const it = suite(`a leaking handler on ${runtime.name}`);

  it('is recycled below the ceiling without failing an item', timed(90_000, async () => {
    // 40 items of 10 MB each would reach 400 MB in one child
    const items = Array.from({ length: 40 }, () => 10);
    const run = runCli(['-s', specFor(runtime, 'leak'), '-p', '1', '--pipeline', '1', '--max-memory', '150', '--stats'], lines(items));
    assert.is(run.status, 0, run.stderr);
    assert.is(run.results.length, items.length);
    assert.ok(run.results.every((r) => r.exit === 0));
    assert.ok(new Set(run.results.map((r) => r.value)).size >= 2, 'the child was replaced');
    const peak = Number(/peak RSS ([\d.]+) MB/.exec(run.stderr)?.[1]);
    assert.ok(peak < 150 + 60, `peak RSS ${peak} MB with a ceiling of 150 MB`);
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it.run();
}
