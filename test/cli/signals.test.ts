import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bin, childrenOf, fixture, isAlive, timed, waitUntil } from '../helpers.js';
import { runtimes } from '../runtimes.js';
import { bigResultsSpec, waitUntilHeld } from './big-results.js';

const dir = mkdtempSync(path.join(tmpdir(), 'polytask-signals-'));
const nodeSpec = fixture('specs/node.json');

// `polytask run` over one quick item and slow ones read from a stdin left open; resolves once
// the quick result is out, with both children busy on slow items
async function startBusy(spec: string, extra: string[] = []) {
  const child = spawn(process.execPath, [bin, 'run', '-s', spec, '--handler', 'sleepy', '-p', '2', ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  child.stdin.write('1\n');
  for (let i = 0; i < 10; i++) child.stdin.write('60000\n');
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await waitUntil(() => stdout.includes('"data":1') || readOutput(extra).includes('"data":1'), 10_000, 'the first result');
  await waitUntil(() => childrenOf(child.pid!).length === 2, 10_000, 'two children');
  return { child, kids: childrenOf(child.pid!), exited, stdout: () => stdout, stderr: () => stderr };
}

function readOutput(extra: string[]): string {
  const at = extra.indexOf('-o');
  if (at === -1) return '';
  try {
    return readFileSync(extra[at + 1]!, 'utf8');
  } catch {
    return '';
  }
}

const specs: [string, string][] = [['node', nodeSpec]];
if (runtimes.some((r) => r.name === 'python3' && r.missing === undefined)) specs.push(['python3', fixture('specs/python3.yml')]);
for (const [name, spec] of specs) {
  test(`SIGTERM (${name}): exit 143, input no longer read, results so far kept, children gone within a second`, timed(30_000, async () => {
    const { child, kids, exited, stdout, stderr } = await startBusy(spec);
    child.kill('SIGTERM');
    assert.is(await exited, 143, stderr());
    assert.is(stdout().trim().split('\n').length, 1);
    assert.match(stderr(), 'polytask: terminated; 1 results written');
    await waitUntil(() => kids.every((pid) => !isAlive(pid)), 1000, 'children to end');
  }));
}

test('SIGINT and SIGTERM with -o: the results so far are in the file', timed(30_000, async () => {
  for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const out = path.join(dir, `${signal}.jsonl`);
    const { child, kids, exited } = await startBusy(nodeSpec, ['-o', out]);
    child.kill(signal);
    assert.is(await exited, status);
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { data: unknown });
    assert.equal(lines.map((l) => l.data), [1]);
    await waitUntil(() => kids.every((pid) => !isAlive(pid)), 1000, 'children to end');
  }
}));

test('a second Ctrl-C while stopping exits at once; the children still end', timed(30_000, async () => {
  // children that ignore SIGTERM: the stop has to wait for SIGKILL, half a second later
  const stubborn = path.join(dir, 'stubborn.json');
  writeFileSync(stubborn, JSON.stringify({
    exec_type: 'node',
    exec_info: { code: 'process.on("SIGTERM", () => {}); export const sleepy = (ms) => new Promise((r) => setTimeout(() => r(ms), ms));' },
  }));
  const { child, kids, exited, stderr } = await startBusy(stubborn);
  child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  // 130 from polytask's own handler, not a death by the signal (which gives no status)
  assert.is(await exited, 130, stderr());
  // a child whose parent is gone exits by itself
  await waitUntil(() => kids.every((pid) => !isAlive(pid)), 2000, 'children to end');
}));

test('a signal before the run starts leaves no child behind', timed(30_000, async () => {
  const child = spawn(process.execPath, [bin, 'run', '-s', nodeSpec, '--handler', 'sleepy', '-p', '2'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await waitUntil(() => childrenOf(child.pid!).length > 0, 10_000, 'a child');
  const kids = childrenOf(child.pid!);
  child.kill('SIGTERM');
  await exited;
  await waitUntil(() => kids.every((pid) => !isAlive(pid)), 2000, 'children to end');
}));

test('Ctrl-C during a slow setup hook stops the start: status 130 at once, no child left', timed(30_000, async () => {
  const spec = path.join(dir, 'slow-setup.json');
  writeFileSync(spec, JSON.stringify({
    exec_type: 'node',
    exec_info: { code: 'export async function setup() { await new Promise((r) => setTimeout(r, 60_000)); }\nexport const main = (e) => e;', setup_hook: 'setup' },
  }));
  const child = spawn(process.execPath, [bin, 'run', '-s', spec, '-p', '2'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await waitUntil(() => childrenOf(child.pid!).length === 2, 10_000, 'two children');
  const kids = childrenOf(child.pid!);
  child.kill('SIGINT');
  assert.is(await exited, 130);
  assert.match(stderr, 'interrupted while the children started');
  await waitUntil(() => kids.every((pid) => !isAlive(pid)), 2000, 'children to end');
}));

test('a signal while stdout is not read: the children are gone within a second, the results so far kept', timed(60_000, async () => {
  for (const [signal, status, word] of [['SIGINT', 130, 'interrupted'], ['SIGTERM', 143, 'terminated']] as const) {
    const big = bigResultsSpec(dir, `slow-reader-${signal}`, false);
    const child = spawn(process.execPath, [bin, 'run', '-s', big.spec, '-p', '2'], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // stdin stays open; stdout is not read until the children are gone
      child.stdin.write(Array.from({ length: 2000 }, (_, i) => `${i}\n`).join(''));
      await waitUntilHeld(big, 500, 30_000);
      const kids = childrenOf(child.pid!);
      assert.is(kids.length, 2);
      child.kill(signal);
      await waitUntil(() => kids.every((pid) => !isAlive(pid)), 1000, `children to end after ${signal}`);
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      assert.is(await exited, status, stderr);
      const results = Buffer.concat(chunks).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { value: { pid: number } });
      assert.ok(results.length > 0);
      assert.match(stderr, `polytask: ${word}; ${results.length} results written`);
      assert.ok(results.every((r) => kids.includes(r.value.pid)));
    } finally {
      child.kill('SIGKILL');
    }
  }
}));

// items of about 20 us each, so that a stop finds lines in flight
const steadyCode = {
  node: 'export function main(e) {\n  const t = performance.now();\n  while (performance.now() - t < 0.02);\n  return e;\n}\n',
  python3: 'import time\ndef main(e):\n    t = time.time()\n    while time.time() - t < 0.00002:\n        pass\n    return e\n',
};
for (const [name] of specs) {
  test(`SIGINT (${name}) while children write the results file themselves: the count said is what the file holds`, timed(60_000, async () => {
    const spec = path.join(dir, `steady-${name}.json`);
    writeFileSync(spec, JSON.stringify({ exec_type: name, exec_info: { code: steadyCode[name as keyof typeof steadyCode] } }));
    const data = path.join(dir, 'steady.jsonl');
    writeFileSync(data, Array.from({ length: 300_000 }, (_, i) => `{"i":${i}}\n`).join(''));
    const out = path.join(dir, `steady-${name}.out.jsonl`);
    const child = spawn(process.execPath, [bin, 'run', '-s', spec, '-d', data, '-o', out, '-p', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await waitUntil(() => readOutput(['-o', out]).length > 200_000, 30_000, 'results in the file');
      child.kill('SIGINT');
      assert.is(await exited, 130, stderr);
      const lines = readFileSync(out, 'utf8').split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { line: number }).line);
      assert.ok(lines.length < 300_000, 'stopped before the end');
      assert.is(new Set(lines).size, lines.length);
      assert.match(stderr, `polytask: interrupted; ${lines.length} results written`);
    } finally {
      child.kill('SIGKILL');
    }
  }));
}

test.run();
