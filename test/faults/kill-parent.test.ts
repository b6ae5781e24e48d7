// kill -9 of polytask run in the middle of items: its children notice and exit within two seconds
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, lines, startCli, specFor, survivors, waitForNoSurvivors, writeFile } from './common.js';
import { timed, waitUntil } from '../helpers.js';

for (const runtime of faultRuntimes()) {
  const it = suite(`kill -9 of the parent on ${runtime.name}`);

  it('leaves no child behind', timed(30_000, async () => {
    const file = writeFile(`hang-${runtime.name}.jsonl`, lines(['item 1', 'hang', 'hang', 'item 2']));
    const { child, marker } = startCli(['-s', specFor(runtime, 'crash'), '-d', file, '-p', '2']);
    // both children are running (the hanging items keep them busy)
    await waitUntil(() => survivors(marker).length >= 3, 15_000, 'the children to start');
    child.kill('SIGKILL');
    assert.equal(await waitForNoSurvivors(marker, 2000), [], 'children still alive 2 s after the parent was killed');
  }));

  it.run();
}
