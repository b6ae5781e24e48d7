// One item prints 10 MB to stdout and 10 MB to stderr: its result carries all of it, the
// other items are not held up or mixed with it
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, lines, runCli, specFor, waitForNoSurvivors } from './common.js';
import { timed } from '../helpers.js';

const tenMb = 10 * 1024 * 1024;

for (const runtime of faultRuntimes()) {
  const it = suite(`10 MB of output from one item on ${runtime.name}`);

  it('is captured whole in that item\'s result', timed(60_000, async () => {
    const items = [5, tenMb, 7];
    const run = runCli(['-s', specFor(runtime, 'bigOutput'), '-p', '2', '--keep-order'], lines(items));
    assert.is(run.status, 0, run.stderr.slice(0, 2000));
    assert.is(run.results.length, items.length);
    assert.equal(run.results.map((r) => (r.stdout as string).length), [5, tenMb, 7]);
    assert.equal(run.results.map((r) => (r.stderr as string).length), [5, tenMb, 7]);
    assert.ok((run.results[1]!.stdout as string).split('').every((c) => c === 'o'));
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it.run();
}
