// `polytask run --redis`'s blocks of input lines (cli/run-remote.ts) on a real RemoteExecutor, a
// real worker and a real redis-server: every line answered once, and the blocks cut again when
// the first item times make the block size grow (from 8 lines to hundreds for trivial items).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import { runRemoteLines } from '../../src/cli/run-remote.js';
import { RemoteExecutor } from '../../src/remote/executor.js';
import { loadSpec } from '../../src/spec/load.js';
import { bin, scratch, timed } from '../helpers.js';
import { RedisServer, redisMissing, serveSuite } from '../remote/redis.js';

const it = suite('run --redis: blocks of input lines');
const missing = redisMissing();
const redis = new RedisServer();
const dir = scratch('cli-run-remote');
const specFile = dir.write('spec.yml', 'exec_type: node\nexec_info:\n  code: "export const main = (e) => e"\n');
serveSuite(it, redis, bin, specFile, '-p', '2');

it('one read of 5,000 lines: every line answered once; once items are timed, what is left goes in big blocks', timed(60_000, async () => {
  if (missing !== undefined) return console.log(`skipped: ${missing}`);
  const count = 5000;
  const input = Array.from({ length: count }, (_, i) => `{"n":${i + 1}}\n`).join('');
  await using pool = new RemoteExecutor(await loadSpec(specFile), { redis: redis.url });
  const sizes: number[] = [];
  const submitLines = pool.submitLines.bind(pool);
  pool.submitLines = (lines, owner) => {
    sizes.push(typeof lines.lines === 'number' ? lines.starts.length - 1 : lines.lines.length);
    submitLines(lines, owner);
  };
  const out: Buffer[] = [];
  let answered = 0;
  await runRemoteLines(pool, Readable.from([Buffer.from(input)]), (text, n) => {
    out.push(...(typeof text === 'string' ? [Buffer.from(text)] : text));
    answered += n;
    return Promise.resolve();
  }, new AbortController().signal);
  assert.is(answered, count);
  const lines = Buffer.concat(out).toString().trim().split('\n').map((line) => JSON.parse(line) as { line: number; value: { n: number } });
  assert.equal(lines.map((r) => r.line).sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i + 1));
  assert.ok(lines.every((r) => r.value.n === r.line));
  assert.is(sizes.reduce((a, b) => a + b, 0), count);
  // before the first item times: blocks of 8 lines, as many as the window holds (256 lines);
  // after: the rest of the same read in blocks of up to 1,000 (625 blocks of 8 without the cut again)
  const small = sizes.filter((size) => size <= 8).length;
  assert.ok(small <= 64, `${small} blocks of 8 lines or fewer: ${sizes.join(' ')}`);
  assert.ok(Math.max(...sizes) > 100, sizes.join(' '));
}));

it.run();
