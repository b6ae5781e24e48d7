// Instance round trips: send one value, receive the child's answer, 10,000 times in a row.
// Prints the average µs per round trip for a Python and a Node child (the target:
// under 1000 µs). Not part of `npm test` nor of `npm run bench`.
// Usage: npm run build && node dist/test/bench/instance.js [round trips] [python3|python2|node ...]
import { Instance } from '../../src/process/instance.js';

const args = process.argv.slice(2);
const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
const kinds = args.filter((a) => !/^\d+$/.test(a));

const pythonEcho = 'from polytask_child import parent\nwhile True:\n    parent.send(parent.recv())\n';
const nodeEcho = "import { parent } from 'polytask/child';\nfor (;;) parent.send(await parent.recv());\n";

async function measure(name: string, start: () => Promise<Instance>): Promise<void> {
  let child: Instance;
  try {
    child = await start();
  } catch (error) {
    console.log(`${name}: skipped (${(error as Error).message})`);
    return;
  }
  const value = { n: 0, text: 'hello' };
  // warm-up, so that start-up and JIT are not counted
  for (let i = 0; i < 200; i++) {
    child.send(value);
    await child.recv();
  }
  const begin = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    value.n = i;
    child.send(value);
    const back = (await child.recv()) as { n: number };
    if (back.n !== i) throw new Error(`round trip ${i} came back as ${back.n}`);
  }
  const micros = Number(process.hrtime.bigint() - begin) / 1000;
  console.log(`${name}: ${count} round trips, ${(micros / count).toFixed(1)} µs per round trip on average`);
  await child.close();
}

for (const kind of kinds.length > 0 ? kinds : ['python3', 'node']) {
  if (kind === 'node') await measure('node', () => Instance.node(nodeEcho));
  else await measure(kind, () => Instance.python(pythonEcho, { interpreter: kind }));
}
