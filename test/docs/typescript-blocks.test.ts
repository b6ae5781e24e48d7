// Every ```ts block of README.md and docs/*.md type-checks under `strict` and
// `noUncheckedIndexedAccess`, importing 'polytask' as a user does (the package's own types,
// built into dist/). A block is checked alone, as a module, with:
// - the page's imports from 'polytask' (a page states them once, in its first blocks), and
// - the declarations of an HTML comment right before the block, for the names a fragment
//   takes from its page (`<!-- ts-context: declare const items: number[]; -->`), unseen on
//   the rendered page.
// The blocks the docs call runnable (a ts block marked `// runnable:`, a sh block of
// `node --input-type=module -e`) also run, from the repository root, and must exit 0.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from '../helpers.js';

const it = suite('TypeScript blocks of the docs');

interface Block {
  page: string;
  line: number;
  file: string;
}
interface Runnable {
  page: string;
  line: number;
  command: string[];
}
const runnables: Runnable[] = [];

const pages = ['README.md', ...readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
// inside the package, so that 'polytask' resolves to this package (its exports and .d.ts)
const dir = path.join(repoRoot, 'dist', 'doc-blocks');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

// The names a block imports from 'polytask', each with whether it is imported as a type only
function importsOf(code: string): Map<string, boolean> {
  const names = new Map<string, boolean>();
  for (const [, typeOnly, list = ''] of code.matchAll(/^import (type )?\{([^}]*)\} from 'polytask';$/gm)) {
    for (const entry of list.split(',').map((n) => n.trim()).filter(Boolean)) {
      names.set(entry.replace(/^type /, ''), typeOnly !== undefined || entry.startsWith('type '));
    }
  }
  return names;
}

const blocks: Block[] = [];
for (const page of pages) {
  const text = readFileSync(path.join(repoRoot, page), 'utf8');
  const found = [...text.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```/gm)];
  const pageImports = new Map(found.flatMap(([, code = '']) => [...importsOf(code)]));
  for (const match of found) {
    const code = match[1] ?? '';
    const before = text.slice(0, match.index);
    const line = before.split('\n').length;
    const context = /<!-- ts-context:((?:(?!-->)[\s\S])*)-->\n$/.exec(before)?.[1] ?? '';
    const own = importsOf(code);
    const missing = [...pageImports].filter(([name]) => !own.has(name)).map(([name, typeOnly]) => `${typeOnly ? 'type ' : ''}${name}`);
    const header = missing.length > 0 ? `import { ${missing.join(', ')} } from 'polytask';` : '';
    const file = `${page.replace(/[/.]/g, '-')}-${line}.mts`;
    // the header and the context share the first line, so that the block's line n is the file's n + 1
    writeFileSync(path.join(dir, file), `${header} ${context.replace(/\n/g, ' ').trim()}\n${code}\nexport {};\n`);
    blocks.push({ page, line, file });
    if (code.startsWith('// runnable:')) {
      writeFileSync(path.join(dir, file.replace(/\.mts$/, '.mjs')), code);
      runnables.push({ page, line, command: [process.execPath, path.join(dir, file.replace(/\.mts$/, '.mjs'))] });
    }
  }
  for (const match of text.matchAll(/^```sh\n(npm run build && )?(node --input-type=module -e "[\s\S]*?)^```/gm)) {
    runnables.push({ page, line: text.slice(0, match.index).split('\n').length, command: ['sh', '-c', match[2] ?? ''] });
  }
}
writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
  compilerOptions: {
    strict: true, noUncheckedIndexedAccess: true, module: 'nodenext', moduleResolution: 'nodenext',
    target: 'es2022', lib: ['es2023', 'esnext.disposable'], types: ['node'], noEmit: true, skipLibCheck: true,
  },
  include: ['*.mts'],
}));

let output: Promise<string> | undefined;
// One compiler run for all blocks; each page's test reads its own errors from it
function compile(): Promise<string> {
  output ??= Promise.resolve().then(() => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const ran = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { encoding: 'utf8', timeout: 120_000 });
    if (ran.error) throw ran.error;
    return ran.stdout + ran.stderr;
  });
  return output;
}

it('the docs have TypeScript blocks to check', () => {
  assert.ok(blocks.length >= 20, `found ${blocks.length} blocks`);
});

for (const page of pages) {
  const own = blocks.filter((b) => b.page === page);
  if (own.length === 0) continue;
  it(`${page}: ${own.length} blocks type-check`, async () => {
    const out = await compile();
    // tsc names a file relative to the working directory: match on the file's own name
    const errors = own.flatMap((b) => out.split('\n')
      .filter((l) => l.includes(`${b.file}(`))
      .map((l) => `${page}:${b.line + Number(/\.mts\((\d+),/.exec(l)?.[1] ?? 1) - 1}: ${l.slice(l.indexOf(': ') + 2)}`));
    assert.ok(errors.length === 0, `\n${errors.slice(0, 20).join('\n')}`);
  });
}

for (const { page, line, command } of runnables) {
  it(`${page}:${line}: the runnable example runs`, () => {
    const ran = spawnSync(command[0] ?? '', command.slice(1), { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    assert.is(ran.status, 0, `exit ${ran.status} ${ran.signal ?? ''}\n${ran.stderr}`);
    assert.ok(ran.stdout.trim() !== '', 'it printed nothing');
  });
}

it.run();
