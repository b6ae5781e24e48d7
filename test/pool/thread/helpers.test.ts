// Inline task functions as common toolchains compile them: esbuild with keepNames (what tsx
// runs) writes `__name(...)` into a function, tsc with `--target es2016` `__awaiter(...)`.
// The functions come from real compiler output, imported as a module, and run through task()
// on every runtime that takes inline functions from their source text.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { transformSync } from 'esbuild';
import ts from 'typescript';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { task } from '../../../src/futures/task.js';
import { timed } from '../../helpers.js';

const it = suite('compiler helpers in inline functions');
const scratch = mkdtempSync(path.join(tmpdir(), 'polytask-helpers-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

// A task function with an inner named function (keepNames wraps it in __name) that awaits
// (tsc below ES2017 lowers it to __awaiter over a generator), one that fails after an await,
// and one that looks for the helpers in the global scope
const typescript = `
export const work = async (n: number): Promise<string> => {
  const double = (x: number) => x * 2;
  function label(x: number) { return 'item ' + x; }
  await new Promise((resolve) => setTimeout(resolve, 1));
  return label(double(n)) + ' by ' + double.name + '/' + label.name;
};
// what the function sees of the global scope after its helpers were made
export const probe = async () => {
  const inner = () => typeof (globalThis as Record<string, unknown>).__name;
  await Promise.resolve();
  return inner() + ' ' + typeof (globalThis as Record<string, unknown>).__awaiter;
};
export const fails = async (n: number): Promise<number> => {
  await Promise.resolve();
  throw new RangeError('bad ' + n);
};
`;

type Fn = (n: number) => Promise<unknown>;
interface Compiled { work: Fn; fails: Fn; probe: () => Promise<string> }
async function load(name: string, code: string): Promise<Compiled> {
  const file = path.join(scratch, `${name}.mjs`);
  writeFileSync(file, code);
  return (await import(pathToFileURL(file).href)) as Compiled;
}

const compilers = {
  'esbuild keepNames (tsx)': () => transformSync(typescript, { loader: 'ts', format: 'esm', keepNames: true, target: 'node20' }).code,
  'tsc --target es2016': () => ts.transpileModule(typescript, { compilerOptions: { target: ts.ScriptTarget.ES2016, module: ts.ModuleKind.ESNext } }).outputText,
};

for (const [compiler, compile] of Object.entries(compilers)) {
  for (const runtime of ['thread', 'process'] as const) {
    it(`${compiler}, ${runtime}: the compiled function runs, names and awaits intact`, timed(30_000, async () => {
      const code = compile();
      const helper = compiler.startsWith('esbuild') ? '__name(' : '__awaiter(';
      const { work, fails, probe } = await load(`${compiler.split(' ')[0]}-${runtime}`, code);
      // the function itself calls the helper: without the worker's own it would not run
      assert.ok(work.toString().includes(helper), work.toString());
      const run = task(work, { runtime, concurrency: 1 });
      const failing = task(fails, { runtime, concurrency: 1 });
      const probing = task(probe, { runtime, concurrency: 1 });
      try {
        assert.is(await run(21), 'item 42 by double/label');
        const error = await failing(7).then(() => undefined, (e: unknown) => e as Error);
        assert.ok(error instanceof Error, 'a failure rejects');
        assert.is(error.name, 'RangeError');
        assert.is(error.message, 'bad 7');
        // the helpers are the function's own: no global is set in the worker
        assert.is(await probing(), 'undefined undefined');
      } finally {
        await probing.close();
        await run.close();
        await failing.close();
      }
    }));
  }
}

it.run();
