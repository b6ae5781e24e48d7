// An item that hangs past the timeout: it gets exit 124, only its child is replaced, the rest answer
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, lines, runCli, specFor, waitForNoSurvivors } from './common.js';
import { timed } from '../helpers.js';

for (const runtime of faultRuntimes()) {
  const it = suite(`hang past the timeout on ${runtime.name}`);

  it('the hanging item times out; every other item answers once', timed(60_000, async () => {
    const items = Array.from({ length: 40 }, (_, i) => (i === 5 || i === 25 ? 'hang' : `item ${i}`));
    const run = runCli(['-s', specFor(runtime, 'crash'), '-p', '2', '--timeout', '1'], lines(items));
    assert.is(run.status, 1, run.stderr);
    assert.is(run.results.length, items.length);
    assert.is(new Set(run.results.map((r) => r.line)).size, items.length);
    for (const r of run.results) {
      if (r.data === 'hang') {
        assert.is(r.exit, 124);
        assert.is(r.timedOut, true);
        assert.is((r.error as { name: string }).name, 'TimeoutError');
      } else {
        assert.is(r.exit, 0, JSON.stringify(r));
      }
    }
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it.run();
}
