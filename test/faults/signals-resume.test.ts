// SIGINT, SIGTERM and SIGKILL at random moments, each followed by --resume: in the end the
// results log holds exactly one result per input line, none lost, none doubled, and no child
// of any of the runs is left
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dir, faultRuntimes, lines, runCli, specFor, startCli, waitForNoSurvivors, writeFile } from './common.js';
import { timed } from '../helpers.js';

const count = 3000;

for (const runtime of faultRuntimes()) {
  const it = suite(`signals then --resume on ${runtime.name}`);

  it('exactly one result per line after interruptions at random moments', timed(150_000, async () => {
    const spec = specFor(runtime, 'numbered');
    const data = writeFile(`numbered-${runtime.name}.jsonl`, lines(Array.from({ length: count }, (_, i) => ({ i: i + 1 }))));
    const out = path.join(dir, `numbered-${runtime.name}.results.jsonl`);
    const args = ['-s', spec, '-d', data, '-o', out, '--resume', '-p', '2'];
    const expected: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
    let interrupted = 0;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL', 'SIGINT', 'SIGTERM'] as const) {
      const { child, marker } = startCli(args);
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, sig) => resolve([code, sig])));
      await new Promise((r) => setTimeout(r, 250 + Math.random() * 450));
      child.kill(signal);
      const [code, sig] = await exited;
      // a run that finished before the signal came exits 0
      if (code !== 0) {
        interrupted++;
        // SIGKILL, or a signal that came before polytask had loaded (its first tenth of a
        // second), ends it by the signal; otherwise it stops cleanly with 130 or 143
        if (sig !== null) assert.is(sig, signal);
        else assert.is(code, expected[signal], `${signal}: ${stderr}`);
      }
      assert.equal(await waitForNoSurvivors(marker, signal === 'SIGKILL' ? 2000 : 1000), [], `children left after ${signal}`);
    }
    // 3,000 items of 3 ms on 2 children take over 4 s: the runs were cut short
    assert.ok(interrupted >= 4, `only ${interrupted} of 5 runs were interrupted`);
    const last = runCli(args, '', {}, 120_000);
    assert.is(last.status, 0, last.stderr);
    assert.equal(await waitForNoSurvivors(last.marker), []);
    assert.ok(existsSync(out));
    const text = readFileSync(out, 'utf8');
    assert.ok(text.endsWith('\n'));
    const results = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { line: number; data: { i: number }; value: string; exit: number });
    assert.equal(results.map((r) => r.line).sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i + 1), 'one result per line');
    for (const r of results) {
      assert.is(r.exit, 0);
      assert.is(r.data.i, r.line);
      assert.is(r.value, `r${r.line}`);
    }
  }));

  it.run();
}
