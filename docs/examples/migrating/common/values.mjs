// What a value becomes on its way to a worker and back. JavaScript tasks copy values by
// structured clone; job specs (Python, Node or any handler) send JSON. Nothing is pickled.
import { inspect } from 'node:util';
import { resolveSpec, task } from 'polytask';

class Point {
  constructor(x, y) {
    this.x = x;
    this.y = y;
  }
}
const echo = task((value) => value, { concurrency: 1 });   // a worker thread (runtime: 'process' copies the same way)
for (const value of [[5, 10], new Map([[1, 'a']]), new Set([1]), new Date(0), 10n, undefined, new Point(1, 2)]) {
  const back = await echo(value);
  console.log('thread:', inspect(value), '->', inspect(back));
}
await echo(() => 1).catch((error) => console.log('thread: a function:', error.name));
await echo.close();

const py = task(resolveSpec({
  exec_type: 'python3',
  exec_info: {
    code: `
def main(event, context):
    kind, arg = event
    if kind == 'repr': return repr(arg)
    if kind == 'tuple': return (1, 2)
    if kind == 'int keys': return {1: 'a'}
    if kind == 'set': return {1}
    if kind == 'bytes': return b'abc'
    if kind == 'big int': return 2 ** 53 + 1
    if kind == 'float': return 2.0
    if kind == 'nan': return float('nan')
`,
  },
}), { concurrency: 1 });
for (const kind of ['tuple', 'int keys', 'set', 'bytes', 'big int', 'float', 'nan']) {
  try {
    const { value } = await py([kind, null]);
    console.log(`python returns ${kind}:`, JSON.stringify(value));
  } catch (error) {
    console.log(`python returns ${kind}:`, error.type);
  }
}
for (const [name, item] of [['a Map', new Map([[1, 'a']])], ['a Date', new Date(0)], ['NaN', NaN], ['undefined', undefined], ['a BigInt', 10n]]) {
  try {
    const { value } = await py(['repr', item]);
    console.log(`python gets ${name}:`, value);
  } catch (error) {
    console.log(`python gets ${name}:`, error.message);
  }
}
await py.close();
