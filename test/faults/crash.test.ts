// A child that dies mid-item (its own exit, SIGKILL, a segfault): that item fails with the
// child's status, every other item still answers, and the child is replaced
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, lines, runCli, specFor, waitForNoSurvivors } from './common.js';
import { timed } from '../helpers.js';

for (const runtime of faultRuntimes()) {
  const it = suite(`crash mid-item on ${runtime.name}`);

  it('exit status, SIGKILL and SIGSEGV fail only their own item; one result per item', timed(60_000, async () => {
    const items = Array.from({ length: 60 }, (_, i) => (i === 10 ? 'exit3' : i === 30 ? 'sigkill' : i === 50 ? 'segv' : `item ${i}`));
    const run = runCli(['-s', specFor(runtime, 'crash'), '-p', '2'], lines(items));
    assert.is(run.status, 1, run.stderr);
    assert.is(run.results.length, items.length);
    const byLine = new Map(run.results.map((r) => [r.line as number, r]));
    assert.is(byLine.size, items.length, 'no line answered twice');
    const failed = (line: number) => byLine.get(line) as { exit: number; error: { name: string } };
    assert.equal([failed(11).exit, failed(31).exit, failed(51).exit], [3, 137, 139]);
    for (const line of [11, 31, 51]) assert.is(failed(line).error.name, 'WorkerExitedError');
    const others = run.results.filter((r) => ![11, 31, 51].includes(r.line as number));
    assert.ok(others.every((r) => r.exit === 0 && r.value === `ok ${r.data as string}`), JSON.stringify(others.find((r) => r.exit !== 0)));
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it.run();
}
