// What a handler starts (`subprocess.Popen(['sleep', '1000'])`) does not outlive the run:
// each child leads a process group, ended with it, and a handler whose parent dies ends its
// group itself. Checked after a normal end, SIGINT, SIGTERM and kill -9 of `polytask run`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, lines, runCli, specFor, startCli, survivors, waitForNoSurvivors } from './common.js';
import { readFileSync } from 'node:fs';
import { timed, waitUntil } from '../helpers.js';

// The run's processes that are `sleep 1000` (the handler's subprocess)
function sleepers(marker: string): number[] {
  return survivors(marker).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('sleep\0');
    } catch {
      return false;
    }
  });
}

for (const runtime of faultRuntimes()) {
  const it = suite(`grandchildren on ${runtime.name}`);

  it('a normal end leaves no grandchild', timed(30_000, async () => {
    const run = runCli(['-s', specFor(runtime, 'grandchild'), '-p', '2', '--no-exit-from-return'], lines(['a', 'b', 'c']));
    assert.is(run.status, 0, run.stderr);
    assert.is(run.results.length, 3);
    assert.equal(await waitForNoSurvivors(run.marker, 2000), [], 'a sleep started by the handler is still alive 2 s after the run');
    assert.is(new Set(run.results.map((r) => JSON.stringify(r.value))).size, 3, 'each item started its own sleep');
  }));

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} to polytask run mid-item leaves no grandchild`, timed(30_000, async () => {
      const { child, marker } = startCli(['-s', specFor(runtime, 'grandchild'), '-p', '1'], {});
      child.stdin!.end(lines(['hang']));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await waitUntil(() => sleepers(marker).length === 1, 15_000, 'the sleep to start');
      child.kill(signal);
      await exited;
      assert.equal(await waitForNoSurvivors(marker, 2000), [], `processes still alive 2 s after ${signal}`);
    }));
  }

  it.run();
}
