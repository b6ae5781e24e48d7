// `npm run demo`: runs the bundled example job with a Python and a Node handler through the CLI
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', '..', '..', 'bin', 'polytask.js');
let worked = true;
for (const spec of ['python.yml', 'node.yml']) {
  const args = ['run', '-s', path.join(here, spec), '-d', path.join(here, 'items.jsonl'), '--keep-order', '-p', '2'];
  console.log(`\n$ polytask ${args.map((a) => path.relative(process.cwd(), a) || a).join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  // status 1 means some item failed (the demo's last item does, on purpose)
  console.log(`(exit status ${r.status})`);
  if (r.status !== 0 && r.status !== 1) worked = false;
}
process.exitCode = worked ? 0 : 1;
