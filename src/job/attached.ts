// runSingleProcessed() for a job spec: one child, attached to the terminal, items in order
import { toError } from '../futures/spec-executor.js';
import { ProcessPool } from '../pool/process-pool.js';
import type { ResolvedSpec } from '../spec/load.js';

// Yields [index, item, value or Error] for each item, one at a time
export async function* runSpecAttached<T>(spec: ResolvedSpec, items: Iterable<T> | AsyncIterable<T>): AsyncGenerator<[number, T, unknown], void, undefined> {
  const pool = new ProcessPool(spec, { processes: 1, pipeline: 1, attachTerminal: true });
  try {
    await pool.start();
    let index = 0;
    for await (const item of items) {
      const result = await pool.run(item);
      yield [index++, item, result.error === undefined ? result.value : toError(result)];
    }
  } finally {
    await pool.close();
  }
}
