// The layers of src/ only point down: cli -> job -> futures -> pool, remote -> process, protocol, spec
// -> errors, options; and no module imports itself through others (no import circle). Read
// from the sources, so a new upward import or circle fails `npm test`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './helpers.js';

const src = path.join(repoRoot, 'src');
const rank: Record<string, number> = { cli: 5, job: 4, futures: 3, pool: 2, remote: 2, process: 1, protocol: 1, spec: 1, errors: 0, options: 0, index: 6 };

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : name.endsWith('.ts') ? [full] : [];
  });
}

// The layer of a file: its first folder under src/, or its name for a top-level file
function layer(file: string): string {
  const [first] = path.relative(src, file).split(path.sep);
  return first!.replace(/\.ts$/, '');
}

// Relative imports of a file (type-only ones too: they are still a dependency of the design)
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g)) {
    found.push(path.resolve(path.dirname(file), match[1]!.replace(/\.js$/, '.ts')));
  }
  return found;
}

const all = files(src);
const graph = new Map(all.map((file) => [file, imports(file)]));

test('every folder of src/ has a layer', () => {
  for (const file of all) assert.ok(rank[layer(file)] !== undefined, `${path.relative(src, file)}: no layer for ${layer(file)}`);
});

test('imports only point down (or within a layer)', () => {
  const upward: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      if (rank[layer(target)]! > rank[layer(file)]!) upward.push(`${path.relative(src, file)} -> ${path.relative(src, target)}`);
    }
  }
  assert.equal(upward, []);
});

test('no import circle', () => {
  const state = new Map<string, 'visiting' | 'done'>();
  const circles: string[] = [];
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      circles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(src, f)).join(' -> '));
      return;
    }
    state.set(file, 'visiting');
    for (const target of graph.get(file) ?? []) visit(target, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of all) visit(file, []);
  assert.equal(circles, []);
});

test('no file in src/ is over 300 lines', () => {
  const long = all.filter((file) => readFileSync(file, 'utf8').split('\n').length > 301).map((file) => path.relative(src, file));
  assert.equal(long, []);
});

test.run();
