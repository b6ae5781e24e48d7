export * from './errors.js';
export { loadSpec, resolveSpec, type ResolvedSpec } from './spec/load.js';
export type { JobSpec, CodeSource } from './spec/schema.js';
export { ProcessPool, type PoolOptions, type ItemResult } from './pool/process-pool.js';
export { JobRunner, type JobRunnerOptions, type JobResult } from './job/runner.js';
export { Future, type FutureState } from './futures/future.js';
export { waitFor } from './futures/wait.js';
export { map, type MapOptions } from './futures/map.js';
export type { Executor, RunOptions } from './pool/executor.js';
