// llll's PoolMaster/PoolSlave and MultithreadedMapper, with its fib example
import { caller, map, ProcessPool, resolveSpec, SynchronousJob } from 'polytask';

// PoolSlave(fib) in the code string -> a handler; the call's arguments arrive as a list
const spec = resolveSpec({
  exec_type: 'python3',
  exec_info: {
    code: `
def fib(n):
    return 1 if n <= 2 else fib(n - 1) + fib(n - 2)

def main(args, context):
    return fib(*args)
`,
  },
});
const pm = new ProcessPool(spec, { processes: 6 });       // PoolMaster(code, 6)
const call = caller(pm);                                   // pm.call as a function
console.log(await call(10));                               // pm.call(10): here a Future, awaited
const all = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i + 1)));   // all at once
console.log(all.join(' '));

// MultithreadedMapper(nthread=6).map(fib2, list): map() keeps 6 calls in flight, in input order
const ns = Array.from({ length: 20 }, (_, i) => i + 1);
const mapped = [];
for await (const value of map((n) => call(n), ns, { concurrency: 6 })) mapped.push(value);
console.log(mapped.join(' ') === all.join(' '));
await pm.close();

// or, for JavaScript, one call: a SynchronousJob over the list (worker threads)
const fib = (n) => { const f = (k) => (k <= 2 ? 1 : f(k - 1) + f(k - 2)); return f(n); };
console.log((await new SynchronousJob({ func: fib, items: ns, processes: 6 }).runMultiProcessed()).join(' ') === all.join(' '));
