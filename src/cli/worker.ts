// `polytask worker --redis URL -s spec.yml`: takes the spec's items from Redis (put there by
// `polytask run --redis`, JobRunner or task() with `redis`) and runs them in local children
import { Command, Option } from 'clipanion';
import { redisTarget } from '../remote/connection.js';
import { RemoteWorker } from '../remote/worker.js';
import { exitCodes, flagChecks, loadSpecForCli, reportError, secondsToMs, specMissing } from './common.js';
import { onStopSignals } from './signals.js';
import { formatStats } from './stats.js';

export class WorkerCommand extends Command {
  static override paths = [['worker']];
  static override usage = Command.Usage({
    description: 'run a job spec\'s items that producers put on Redis',
    details: `
      Connects to Redis, starts the spec's children and runs the items of every producer that
      runs the same spec (same exec type, handler and code: the queue is named from their hash)
      with \`--redis\`, until SIGINT or SIGTERM. Then it takes no more items, lets running ones
      finish within \`--grace\` seconds, hands the others back to the queue, and exits 0.
      See docs/scale-out.md.
    `,
    examples: [
      ['Serve a spec with 4 children', '$0 worker --redis redis://redis.example:6379 -s spec.yml -p 4'],
      ['Redis on a Unix socket', '$0 worker --redis redis+unix:///run/redis/redis.sock -s spec.yml'],
    ],
  });

  spec = Option.String('-s,--spec', { description: 'job spec file (YAML or JSON); required' });
  redis = Option.String('--redis', { description: 'Redis URL: redis://[user:password@]host:port[/db], rediss:// (TLS) or redis+unix:///path; required' });
  processes = Option.String('-p,-n,--processes,--n-processes', { validator: flagChecks.positiveInteger, description: 'number of children (default: number of CPUs)' });
  grace = Option.String('--grace', { validator: flagChecks.delay, description: 'seconds running items may still take after SIGTERM before they are handed back to the queue (default 0.5)' });
  handler = Option.String('--handler', { description: 'handler function name (overrides exec_info.handler)' });
  setupHook = Option.String('--setup-hook', { description: 'setup hook name (overrides exec_info.setup_hook)' });
  setupTimeout = Option.String('--setup-timeout', { validator: flagChecks.setupTimeout, description: 'seconds a child may take to load the code and run the setup hook (default 120)' });
  maxTasksPerWorker = Option.String('--max-tasks-per-worker', { validator: flagChecks.positiveInteger, description: 'replace a child, between items, after it has run this many items' });
  maxMemory = Option.String('--max-memory', { validator: flagChecks.megabytes, description: 'replace a child, between items, once its resident memory is above this many MB' });
  stats = Option.Boolean('--stats', false, { description: 'print counts, item latency and each child\'s CPU time and peak memory on stderr at the end' });

  override async execute(): Promise<number> {
    const { stderr } = this.context;
    const missing = specMissing(this.spec, 'worker', stderr);
    if (missing !== undefined) return missing;
    if (this.redis === undefined) return reportError(stderr, new Error('worker needs --redis URL: where producers put the items; see polytask worker --help'));
    try {
      redisTarget(this.redis, '--redis');
    } catch (error) {
      return reportError(stderr, error);
    }
    const spec = await loadSpecForCli(this.spec!, { handler: this.handler, setupHook: this.setupHook }, stderr);
    if (typeof spec === 'number') return spec;
    const worker = new RemoteWorker(spec, {
      redis: this.redis,
      ...(this.processes === undefined ? {} : { processes: this.processes }),
      ...(this.grace === undefined ? {} : { graceMs: Math.round(this.grace * 1000) }),
      ...(this.setupTimeout === undefined ? {} : { setupTimeout: secondsToMs(this.setupTimeout) }),
      ...(this.maxTasksPerWorker === undefined ? {} : { maxTasksPerWorker: this.maxTasksPerWorker }),
      ...(this.maxMemory === undefined ? {} : { maxMemoryMb: this.maxMemory }),
      onWorkerOutput: (chunk) => stderr.write(chunk),
      onError: (error) => stderr.write(`polytask worker: ${error.message}\n`),
    });
    const started = performance.now();
    let stopped!: () => void;
    const stopping = new Promise<void>((resolve) => (stopped = resolve));
    const signals = onStopSignals(() => stopped());
    try {
      await Promise.race([worker.start(), stopping]);
      if (signals.received === undefined) stderr.write(`polytask worker: ready: ${worker.pool.readyInfo()}, taking items from ${worker.describe()}\n`);
      await stopping;
      await worker.stop();
      if (this.stats) stderr.write(formatStats(worker.pool.stats(), performance.now() - started));
      return exitCodes.ok;
    } catch (error) {
      await worker.stop().catch(() => {});
      return reportError(stderr, error);
    } finally {
      signals.remove();
    }
  }
}
