// For the tests of a run whose results pile up (a slow first item, a stdout nobody reads): a
// Node spec whose handler notes each item it starts in a file and returns some 10 KB; item 0
// waits until a release file exists, when one is named.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitUntil } from '../helpers.js';

export interface BigResults {
  spec: string;
  // how many items the children have started
  started(): number;
  // lets item 0 end (with `slowFirst`)
  release(): void;
}

export const resultBytes = 10_000;

export function bigResultsSpec(dir: string, name: string, slowFirst: boolean): BigResults {
  const seen = path.join(dir, `${name}.seen`);
  const gate = path.join(dir, `${name}.release`);
  writeFileSync(seen, '');
  const code = `import { appendFileSync, existsSync } from 'node:fs';
export async function main(item) {
  appendFileSync(${JSON.stringify(seen)}, item + '\\n');
  if (item === 0 && ${slowFirst}) while (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 20));
  return { item, pid: process.pid, pad: 'x'.repeat(${resultBytes}) };
}`;
  const spec = path.join(dir, `${name}.json`);
  writeFileSync(spec, JSON.stringify({ exec_type: 'node', exec_info: { code } }));
  return {
    spec,
    started: () => (existsSync(seen) ? readFileSync(seen, 'utf8').split('\n').length - 1 : 0),
    release: () => writeFileSync(gate, ''),
  };
}

// Waits until the children have started some items and then no more for `quietMs` (the run is
// held up: by item 0, or by its output)
export async function waitUntilHeld(run: BigResults, quietMs: number, limitMs: number): Promise<number> {
  let last = -1;
  let since = Date.now();
  await waitUntil(() => {
    const now = run.started();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
    return now > 0 && Date.now() - since >= quietMs;
  }, limitMs, 'the run to be held up');
  return last;
}
