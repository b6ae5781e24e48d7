// Output that is not UTF-8, written through the language's streams and straight to fd 1: the
// results stay valid JSON lines, the bad bytes become U+FFFD, and the run goes on
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, lines, runCli, specFor, waitForNoSurvivors } from './common.js';
import { timed } from '../helpers.js';

for (const runtime of faultRuntimes()) {
  const it = suite(`binary output on ${runtime.name}`);

  it('is captured with replacement characters; results stay JSON', timed(30_000, async () => {
    const items = [1, 2, 3];
    const run = runCli(['-s', specFor(runtime, 'binaryOutput'), '-p', '2'], lines(items));
    assert.is(run.status, 0, run.stderr);
    assert.is(run.results.length, items.length);
    for (const r of run.results) {
      assert.is(r.value, 'done');
      assert.is(r.stdout, 'bytes \ufffd\ufffd end\n');
      assert.is(r.stderr, '\ufffd err\n');
    }
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it.run();
}
