// The consumer of the results stops early: a reader that goes away (`| head -1`) and an API
// loop left with break. The run stops quietly, and its children go with it
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, lines, startCli, specFor, waitForNoSurvivors, writeFile } from './common.js';
import { timed } from '../helpers.js';
import { randomUUID } from 'node:crypto';
import { JobRunner } from '../../src/job/runner.js';

for (const runtime of faultRuntimes()) {
  const it = suite(`the consumer stops early on ${runtime.name}`);

  it('a reader that goes away after one line: status 141, no survivors', timed(30_000, async () => {
    const file = writeFile(`many-${runtime.name}.jsonl`, lines(Array.from({ length: 20_000 }, (_, i) => `item ${i}`)));
    const { child, marker } = startCli(['-s', specFor(runtime, 'slow'), '-d', file, '-p', '2']);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const first = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    assert.match(first, '"line":');
    child.stdout!.destroy();
    assert.is(await exited, 141);
    assert.equal(await waitForNoSurvivors(marker), []);
  }));

  it('a JobRunner loop left with break ends every child', timed(30_000, async () => {
    const spec = { exec_type: runtime.name, exec_info: { code: { type: 'path' as const, data: runtime.file }, handler: runtime.handler('slow') } };
    const runner = new JobRunner(spec, Array.from({ length: 10_000 }, (_, i) => `item ${i}`), { processes: 2, onWorkerOutput: () => {} });
    // the children inherit this process's environment: mark it for the survivors check
    const marker = randomUUID();
    process.env.POLYTASK_FAULT_MARK = marker;
    let seen = 0;
    for await (const result of runner.run()) {
      assert.is(result.exit, 0);
      if (++seen === 3) break;
    }
    const pids = runner.pool.pids();
    assert.equal(pids, [], 'the pool has no child left');
    assert.is(runner.pool.size, 0, 'no item left waiting');
    delete process.env.POLYTASK_FAULT_MARK;
    assert.equal(await waitForNoSurvivors(marker, 0), [], 'children still alive once the loop was left');
  }));

  it.run();
}
