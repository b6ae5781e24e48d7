// A spec pointing at a missing code file, an interpreter that does not exist, or a handler
// name the code does not define: status 2, one clear message naming what is wrong, no stack,
// no results, no survivors
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faultRuntimes, ownFrame, lines, runCli, waitForNoSurvivors, writeFile } from './common.js';
import { timed } from '../helpers.js';

for (const runtime of faultRuntimes()) {
  const it = suite(`bad specs on ${runtime.name}`);
  const spec = (name: string, body: object) => writeFile(`${runtime.name}-${name}.json`, JSON.stringify(body));
  const code = { type: 'path', data: runtime.file };

  it('a code file that does not exist', timed(30_000, async () => {
    const run = runCli(['-s', spec('missing-file', { exec_type: runtime.execType, exec_info: { code: { type: 'path', data: '/no/such/handler.file' } } })], lines([1]));
    assert.is(run.status, 2);
    assert.is(run.stdout, '');
    assert.match(run.stderr, '/no/such/handler.file');
    assert.not.match(run.stderr, ownFrame);
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it('an interpreter that does not exist', timed(30_000, async () => {
    const run = runCli(['-s', spec('missing-interpreter', { exec_type: { executable: '/no/such/interpreter', handler: runtime.file }, exec_info: { code } })], lines([1]));
    assert.is(run.status, 2);
    assert.is(run.stdout, '');
    assert.match(run.stderr, '/no/such/interpreter');
    assert.match(run.stderr, 'not found');
    assert.not.match(run.stderr, ownFrame);
    const env = runCli(['-s', spec('env-interpreter', { exec_type: runtime.execType, exec_info: { code } })], lines([1]), { POLYTASK_PYTHON3: '/no/such/python3', POLYTASK_NODE: '/no/such/node' });
    assert.is(env.status, 2);
    assert.match(env.stderr, '/no/such/');
    assert.equal(await waitForNoSurvivors(run.marker), []);
    assert.equal(await waitForNoSurvivors(env.marker), []);
  }));

  it('a handler name the code does not define', timed(30_000, async () => {
    const run = runCli(['-s', spec('missing-handler', { exec_type: runtime.execType, exec_info: { code, handler: 'no_such_function' } })], lines([1]));
    assert.is(run.status, 2);
    assert.is(run.stdout, '');
    assert.match(run.stderr, 'no_such_function');
    assert.not.match(run.stderr, ownFrame);
    assert.equal(await waitForNoSurvivors(run.marker), []);
  }));

  it.run();
}
