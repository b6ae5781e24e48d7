// Runs every compiled test file in its own process with a time limit, streams its output,
// and ends with one line: `N passed, N failed`. A file that crashes or hangs counts as a failure.
// Each file gets a temporary directory of its own (TMPDIR), removed once it ends: what its
// tests and their children write there goes with it, even when a test fails or hangs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'test');
const fileLimitMs = Number(process.env.POLYTASK_TEST_FILE_TIMEOUT ?? 180_000);
const filter = process.argv[2];

function findTests(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'bench' ? [] : findTests(full);
    return name.endsWith('.test.js') ? [full] : [];
  });
}

function runFile(file) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'polytask-test-'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', TMPDIR: tmp },
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    const timer = setTimeout(() => {
      process.stdout.write(`\n✘ ${path.relative(root, file)}: no result after ${fileLimitMs} ms, killed\n`);
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
    }, fileLimitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // a test file may leave children behind only by a bug: end its whole process group
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
      rmSync(tmp, { recursive: true, force: true });
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
      let failed = total - passed - skipped;
      if ((code !== 0 || signal !== null) && failed === 0) {
        process.stdout.write(`✘ ${path.relative(root, file)} ended with ${signal ?? `status ${code}`} and no failed test: counted as one failure\n`);
        failed = 1;
      }
      resolve({ passed, failed });
    });
  });
}

const files = findTests(root).filter((f) => filter === undefined || f.includes(filter));
let passed = 0;
let failed = 0;
for (const file of files) {
  process.stdout.write(`\n# ${path.relative(root, file)}\n`);
  const result = await runFile(file);
  passed += result.passed;
  failed += result.failed;
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
