// A setup hook that fails in one child out of four: the run stops before any item with one
// clear message (status 2), and none of the four children is left running
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, ownFrame, lines, runCli, specFor, waitForNoSurvivors } from './common.js';
import { timed } from '../helpers.js';

for (const runtime of faultRuntimes()) {
  const it = suite(`a setup hook failing in one child of four on ${runtime.name}`);

  it('fails the run with the child\'s error, no results, no survivors', timed(60_000, async () => {
    const run = runCli(['-s', specFor(runtime, 'echo', true), '-p', '4'], lines([1, 2, 3]), { FAULT_SETUP_FAILS_IN: '2' });
    assert.is(run.status, 2, run.stderr);
    assert.is(run.stdout, '');
    assert.match(run.stderr, 'setup refuses to run in child 2');
    assert.match(run.stderr, /child 2/);
    assert.not.match(run.stderr, ownFrame, 'no stack trace of ours');
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it.run();
}
