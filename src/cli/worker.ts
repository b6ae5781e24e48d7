// `polytask worker --redis URL -s spec.yml`: takes the spec's items from Redis (put there by
// `polytask run --redis`, JobRunner or task() with `redis`) and runs them in local children;
// with --module-root DIR and/or --allow-inline instead of -s, JavaScript tasks' calls
import { Command, Option } from 'clipanion';
import { redisTarget } from '../remote/connection.js';
import { statSync } from 'node:fs';
import path from 'node:path';
import { RemoteWorker, type JavaScriptTarget } from '../remote/worker.js';
import type { ResolvedSpec } from '../spec/load.js';
import { exitCodes, flagChecks, loadSpecForCli, reportError, secondsToMs, specMissing } from './common.js';
import { CliProgress } from './progress.js';
import { onStopSignals } from './signals.js';
import { formatStats, writeStatsFile } from './stats.js';

export class WorkerCommand extends Command {
  static override paths = [['worker']];
  static override usage = Command.Usage({
    description: 'run a job spec\'s items that producers put on Redis',
    details: `
      Connects to Redis, starts the spec's children and runs the items of every producer that
      runs the same spec (same exec type, handler and code: the queue is named from their hash)
      with \`--redis\`, until SIGINT or SIGTERM. Then it takes no more items, lets running ones
      finish within \`--grace\` seconds, hands the others back to the queue, and exits 0.
      With \`--module-root DIR\` (JavaScript module tasks whose module is under a copy of DIR)
      and/or \`--allow-inline\` (function tasks, signed with the secret in POLYTASK_SECRET)
      instead of \`-s\`, it runs JavaScript tasks' calls in worker threads. See docs/scale-out.md.
    `,
    examples: [
      ['Serve a spec with 4 children', '$0 worker --redis redis://redis.example:6379 -s spec.yml -p 4'],
      ['Redis on a Unix socket', '$0 worker --redis redis+unix:///run/redis/redis.sock -s spec.yml'],
      ['JavaScript module tasks under ./tasks', '$0 worker --redis redis://redis.example:6379 --module-root ./tasks'],
    ],
  });

  spec = Option.String('-s,--spec', { description: 'job spec file (YAML or JSON); required unless --module-root or --allow-inline is given' });
  moduleRoot = Option.String('--module-root', { description: 'run JavaScript module tasks whose module is under this folder (the producer\'s copy must be the same code)' });
  allowInline = Option.Boolean('--allow-inline', false, { description: 'run JavaScript function tasks, signed with the shared secret in POLYTASK_SECRET' });
  redis = Option.String('--redis', { description: 'Redis URL: redis://[user:password@]host:port[/db], rediss:// (TLS) or redis+unix:///path; required' });
  processes = Option.String('-p,-n,--processes,--n-processes', { validator: flagChecks.positiveInteger, description: 'number of children (default: number of CPUs)' });
  grace = Option.String('--grace', { validator: flagChecks.delay, description: 'seconds running items may still take after SIGTERM before they are handed back to the queue (default 0.5)' });
  handler = Option.String('--handler', { description: 'handler function name (overrides exec_info.handler)' });
  setupHook = Option.String('--setup-hook', { description: 'setup hook name (overrides exec_info.setup_hook)' });
  setupTimeout = Option.String('--setup-timeout', { validator: flagChecks.setupTimeout, description: 'seconds a child may take to load the code and run the setup hook (default 120)' });
  maxTasksPerWorker = Option.String('--max-tasks-per-worker', { validator: flagChecks.positiveInteger, description: 'replace a child, between items, after it has run this many items' });
  maxMemory = Option.String('--max-memory', { validator: flagChecks.megabytes, description: 'replace a child, between items, once its resident memory is above this many MB' });
  progress = Option.Boolean('--progress', { description: 'show a progress line on stderr: items done, items/s, failures (default: when stderr is a terminal); --no-progress: never' });
  stats = Option.Boolean('--stats', false, { description: 'print counts, item latency and each child\'s CPU time and peak memory on stderr at the end' });
  statsFile = Option.String('--stats-file', { description: 'write the figures of --stats to this file as JSON at the end' });

  override async execute(): Promise<number> {
    const { stderr } = this.context;
    const javascript = this.moduleRoot !== undefined || this.allowInline;
    if (javascript && this.spec !== undefined) return reportError(stderr, new Error('worker runs a spec (-s) or JavaScript tasks (--module-root, --allow-inline), not both: start one worker of each'));
    const specOnly = [['--handler', this.handler], ['--setup-hook', this.setupHook], ['--setup-timeout', this.setupTimeout], ['--max-tasks-per-worker', this.maxTasksPerWorker], ['--max-memory', this.maxMemory]] as const;
    const misplaced = javascript ? specOnly.find(([, value]) => value !== undefined)?.[0] : undefined;
    if (misplaced !== undefined) return reportError(stderr, new Error(`${misplaced} is for a spec's worker (-s), not with --module-root or --allow-inline`));
    const missing = javascript ? undefined : specMissing(this.spec, 'worker', stderr);
    if (missing !== undefined) return missing;
    if (this.redis === undefined) return reportError(stderr, new Error('worker needs --redis URL: where producers put the items; see polytask worker --help'));
    try {
      redisTarget(this.redis, '--redis');
      if (this.moduleRoot !== undefined && !statSync(this.moduleRoot, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--module-root: not a folder: ${this.moduleRoot}`);
    } catch (error) {
      return reportError(stderr, error);
    }
    let target: ResolvedSpec | JavaScriptTarget;
    if (javascript) {
      target = { ...(this.moduleRoot === undefined ? {} : { moduleRoot: path.resolve(this.moduleRoot) }), allowInline: this.allowInline };
    } else {
      const spec = await loadSpecForCli(this.spec!, { handler: this.handler, setupHook: this.setupHook }, stderr);
      if (typeof spec === 'number') return spec;
      target = spec;
    }
    const progress = CliProgress.start({ force: this.progress, stderr, results: undefined, dataFile: undefined });
    let worker: RemoteWorker;
    try {
      worker = new RemoteWorker(target, {
        redis: this.redis,
        ...(this.processes === undefined ? {} : { processes: this.processes }),
        ...(this.grace === undefined ? {} : { graceMs: Math.round(this.grace * 1000) }),
        ...(javascript ? {} : this.#specOptions(progress)),
        onError: (error) => (progress ?? stderr).write(`polytask worker: ${error.message}\n`),
        ...(progress === undefined ? {} : { onResults: (count: number, failed: number) => progress.meter.add(count, failed) }),
      });
    } catch (error) {
      progress?.stop();
      return reportError(stderr, error);
    }
    const started = performance.now();
    let stopped!: () => void;
    const stopping = new Promise<void>((resolve) => (stopped = resolve));
    const signals = onStopSignals(() => stopped());
    try {
      await Promise.race([worker.start(), stopping]);
      if (signals.received === undefined) (progress ?? stderr).write(`polytask worker: ready: ${worker.pool.readyInfo()}, taking items from ${worker.describe()}\n`);
      await stopping;
      await worker.stop();
      progress?.stop();
      const [stats, elapsed] = [worker.pool.stats(), performance.now() - started];
      if (this.stats) stderr.write(formatStats(stats, elapsed));
      if (this.statsFile !== undefined) await writeStatsFile(this.statsFile, stats, elapsed).catch((error: Error) => stderr.write(`polytask worker: --stats-file: ${error.message}\n`));
      return exitCodes.ok;
    } catch (error) {
      await worker.stop().catch(() => {});
      progress?.stop();
      return reportError(stderr, error);
    } finally {
      signals.remove();
    }
  }

  // The options of a spec's children (refused with --module-root or --allow-inline)
  #specOptions(progress: CliProgress | undefined) {
    return {
      ...(this.setupTimeout === undefined ? {} : { setupTimeout: secondsToMs(this.setupTimeout) }),
      ...(this.maxTasksPerWorker === undefined ? {} : { maxTasksPerWorker: this.maxTasksPerWorker }),
      ...(this.maxMemory === undefined ? {} : { maxMemoryMb: this.maxMemory }),
      onWorkerOutput: (chunk: string | Buffer) => (progress ?? this.context.stderr).write(chunk),
    };
  }
}
