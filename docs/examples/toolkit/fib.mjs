// llll's fib example: a pool of 6 Python children that serve calls, then the ordered mapper
import { caller, map, ProcessPool, resolveSpec } from 'polytask';

const spec = resolveSpec({
  exec_type: 'python3',
  exec_info: {
    code: `
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def main(args, context):     # call(...args): the handler's event is the argument list
    return fib(args[0])
`,
  },
});
const pool = new ProcessPool(spec, { processes: 6 });
const call = caller(pool);

// call(1..32): one Future per call, all in flight at once
const futures = [];
for (let n = 1; n <= 32; n++) futures.push(call(n));
console.log((await Promise.all(futures)).join(' '));

// the mapped version: in input order, 6 calls in flight at a time
const ns = Array.from({ length: 32 }, (_, i) => i + 1);
const results = [];
for await (const value of map((n) => call(n), ns, { ordered: true, concurrency: 6 })) results.push(value);
console.log(results.join(' '));

await pool.close();
