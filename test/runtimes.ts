// The runtimes the pool tests run against, and a helper to make a pool on one of them
import { ProcessPool, type PoolOptions } from '../src/pool/process/pool.js';
import { resolveSpec } from '../src/spec/load.js';
import { fixture, missingInterpreter } from './helpers.js';

export type HandlerName = 'double' | 'identity' | 'withContext' | 'printer' | 'fails' | 'faulty' | 'fdWriter' | 'sleepy' | 'setup' | 'flaky' | 'leaky';

export interface Runtime {
  name: 'node' | 'python3' | 'python2';
  file: string;
  names: Record<HandlerName, string>;
  // why the runtime is not available here, if it is not
  missing: string | undefined;
}

const camel: Record<HandlerName, string> = {
  double: 'double', identity: 'identity', withContext: 'withContext', printer: 'printer', fails: 'fails',
  faulty: 'faulty', fdWriter: 'fdWriter', sleepy: 'sleepy', setup: 'setup', flaky: 'flaky', leaky: 'leaky',
};
const snake: Record<HandlerName, string> = { ...camel, withContext: 'with_context', fdWriter: 'fd_writer' };

export const runtimes: Runtime[] = [
  { name: 'node', file: fixture('node/handlers.mjs'), names: camel, missing: undefined },
  { name: 'python3', file: fixture('python/handlers.py'), names: snake, missing: missingInterpreter(process.env.POLYTASK_PYTHON3 ?? 'python3') },
  { name: 'python2', file: fixture('python/handlers.py'), names: snake, missing: missingInterpreter(process.env.POLYTASK_PYTHON2 ?? 'python2') },
];

// The runtimes that can run here; prints why the others are skipped
export function availableRuntimes(): Runtime[] {
  for (const r of runtimes) if (r.missing !== undefined) console.log(`skip ${r.name} tests: ${r.missing}`);
  return runtimes.filter((r) => r.missing === undefined);
}

export function makePool(runtime: Runtime, handler: HandlerName, { setupHook, ...options }: PoolOptions & { setupHook?: boolean } = {}): ProcessPool {
  const spec = resolveSpec({
    exec_type: runtime.name,
    exec_info: {
      code: { type: 'path', data: runtime.file },
      handler: runtime.names[handler],
      ...(setupHook ? { setup_hook: runtime.names.setup } : {}),
    },
  });
  return new ProcessPool(spec, { processes: 2, onWorkerOutput: () => {}, ...options });
}
