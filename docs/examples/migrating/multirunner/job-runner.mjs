// multirunner's JobRunner, translated: setup() then run(), one result per item
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobRunner, loadSpec } from 'polytask';

const here = path.dirname(fileURLToPath(import.meta.url));
const spec = await loadSpec(path.join(here, 'spec.yml'));   // or a spec object, as in multirunner

const data = [{ name: 'ada' }, { name: 'grace' }, { name: '' }];   // any (async) iterable
const runner = new JobRunner(spec, data, { processes: 2, ordered: true });
const [valid, err] = await runner.setup();   // [true, null] or [false, SetupError]
if (!valid) throw err;

// no context manager: leaving the loop (break, throw) or finishing it ends the children
for await (const item of runner.run()) {
  console.log(item.index, item.exit, JSON.stringify(item.data), JSON.stringify(item.stdout));
}

// multirunner's runner.stats.average_stats(per_pid=False): counts, latency, CPU and memory per child
const stats = runner.pool.stats();
console.log(`${stats.done} done, ${stats.failed} failed, ${stats.workers.length} children`);
