// SerializationError is what users catch when a value cannot travel as JSON, both ways: an item
// the parent cannot send, and a return value the handler cannot send back
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RemoteError, SerializationError, SynchronousJob, task } from '../../src/index.js';
import { timed } from '../helpers.js';

const spec = { exec_type: 'node' as const, exec_info: { code: 'export const main = (e) => (e === "nan" ? Number.NaN : e);' } };

async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

test('task(spec): an item JSON cannot carry, and a return value it cannot carry, reject with SerializationError', timed(20_000, async () => {
  const run = task(spec, { processes: 1 });
  try {
    const sent = await rejection(run(10n));
    assert.ok(sent instanceof SerializationError, String(sent));
    assert.ok(sent instanceof RemoteError);
    assert.is((sent as SerializationError).type, 'SerializationError');
    assert.match((sent as Error).message, 'the item cannot be sent as JSON');
    const returned = await rejection(run('nan'));
    assert.ok(returned instanceof SerializationError, String(returned));
    assert.match((returned as Error).message, 'not JSON-serialisable');
    assert.is((await run(3)).value, 3);
  } finally {
    await run.close();
  }
}));

test('SynchronousJob over a job spec rejects with the SerializationError', timed(20_000, async () => {
  const error = await rejection(new SynchronousJob({ func: spec, items: [1, 'nan'], processes: 1 }).runMultiProcessed());
  assert.ok(error instanceof SerializationError, String(error));
}));

test.run();
