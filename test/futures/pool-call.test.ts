// caller(pool) and the ordered mapper: llll's pool of children that serve calls
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessPool } from '../../src/pool/process/pool.js';
import { resolveSpec } from '../../src/spec/load.js';
import { map } from '../../src/futures/map.js';
import { caller } from '../../src/futures/pool-call.js';
import { Future } from '../../src/futures/future.js';
import { RemoteError } from '../../src/errors.js';
import { isAlive, timed } from '../helpers.js';
import { availableRuntimes } from '../runtimes.js';

const python = `
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def main(args, context):
    if len(args) != 1:
        return args
    if args[0] == 'raise':
        raise ValueError('bad call')
    return fib(args[0])
`;
const node = `
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
export function main(args) {
  if (args.length !== 1) return args;
  if (args[0] === 'raise') throw new RangeError('bad call');
  return fib(args[0]);
}
`;

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

for (const runtime of availableRuntimes()) {
  const it = suite(`pool.call on ${runtime.name}`);
  const pools: ProcessPool[] = [];
  const pool = (processes: number) => {
    const spec = resolveSpec({ exec_type: runtime.name, exec_info: { code: runtime.name === 'node' ? node : python } });
    const p = new ProcessPool(spec, { processes, onWorkerOutput: () => {} });
    pools.push(p);
    return p;
  };
  it.after.each(async () => {
    for (const p of pools.splice(0)) {
      const pids = p.pids();
      await p.close();
      for (const pid of pids) assert.not.ok(isAlive(pid), `child ${pid} is gone and reaped`);
    }
  });

  it('caller(pool)(...args) returns a Future; the handler gets the argument array', timed(30_000, async () => {
    const p = pool(2);
    const futures = range(1, 20).map((n) => caller<number>(p)(n));
    assert.instance(futures[0], Future);
    assert.equal(futures[4]!.args, [5]);
    assert.equal(await Promise.all(futures), range(1, 20).map(fib));
    assert.equal(await caller(p)(1, 'two', { three: 3 }), [1, 'two', { three: 3 }]);
    assert.equal(await caller(p)(), []);
  }));

  it('a call that raises rejects that future only; the same children serve the next calls', timed(30_000, async () => {
    const p = pool(2);
    await p.start();
    const before = p.pids().sort();
    const futures = range(1, 30).map((n) => (n % 3 === 0 ? caller(p)('raise') : caller(p)(n)));
    const settled = await Promise.allSettled(futures);
    settled.forEach((s, i) => {
      const n = i + 1;
      if (n % 3 === 0) {
        assert.is(s.status, 'rejected');
        const error = (s as PromiseRejectedResult).reason as RemoteError;
        assert.instance(error, RemoteError);
        assert.is(error.type, runtime.name === 'node' ? 'RangeError' : 'ValueError');
        assert.is(error.message, 'bad call');
      } else {
        assert.equal(s, { status: 'fulfilled', value: fib(n) });
      }
    });
    assert.equal(p.pids().sort(), before, 'no child died, none was replaced: the pool never shrinks');
    assert.is(await caller(p)(10), 55);
  }));

  it('map() with ordered: true over caller(pool): results in input order', timed(30_000, async () => {
    const p = pool(2);
    const results: number[] = [];
    // large items first, so that later calls finish before earlier ones
    const items = [22, 3, 21, 1, 20, 2, 18, 5];
    for await (const value of map((n: number) => caller<number>(p)(n), items, { ordered: true, concurrency: 6 })) results.push(value);
    assert.equal(results, items.map(fib));
  }));

  it.run();
}
