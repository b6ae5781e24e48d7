// docs/examples/scale-out/demo.mjs, the walk-through of docs/scale-out.md on one machine, runs
// and prints what the page says; it leaves no redis-server or worker behind
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { missingInterpreter, repoRoot, timed } from '../helpers.js';
import { redisMissing } from '../remote/redis.js';

const demo = path.join(repoRoot, 'docs', 'examples', 'scale-out', 'demo.mjs');
const missing = redisMissing() ?? missingInterpreter('python3');

test('the scale-out demo runs a spec and a module task on workers over Redis', timed(90_000, async () => {
  const r = spawnSync(process.execPath, [demo], { encoding: 'utf8', timeout: 80_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, [
    'line 1: exit 0, alpha has 5 letters',
    'line 2: exit 0, beta has 4 letters',
    'line 3: exit 0, gamma has 5 letters',
    'line 4: exit 0, delta has 5 letters',
    "[ 'HELLO!', 'WORKERS!' ]",
    '',
  ].join('\n'));
  const left = spawnSync('pgrep', ['-f', 'polytask-scale-out-'], { encoding: 'utf8' }).stdout.trim();
  assert.is(left, '', 'no redis-server or worker of the demo is left');
}));

if (missing !== undefined) console.log(`skip the scale-out demo: ${missing}`);
else test.run();
