// `polytask run -s spec.yml [-d data.jsonl]`: JSON lines in, one JSON result per line out
import { createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { Command, Option } from 'clipanion';
import { pEvent } from 'p-event';
import * as t from 'typanion';
import { AbortError, ConnectionError, OutputError, ResumeError } from '../errors.js';
import type { RawResult } from '../pool/items.js';
import { specExecutor } from '../pool/runtimes.js';
import { ProcessPool } from '../pool/process/pool.js';
import { runLines } from './run-lines.js';
import { redisTarget } from '../remote/connection.js';
import { RemoteExecutor } from '../remote/executor.js';
import { streamResults } from '../job/stream.js';
import { readJsonLines, type InputLine } from './input.js';
import { runRemoteLines } from './run-remote.js';
import { badLineResult, resultLine, undecoded } from './result-line.js';
import { LineWriter } from '../job/line-writer.js';
import { exitCodes, flagChecks, loadSpecForCli, reportError, secondsToMs, specMissing } from './common.js';
import { checkDataAndOutput, openData, sharedOutputFd } from './files.js';
import { parseRetryOn } from '../pool/retry.js';
import { formatStats, writeStatsFile } from './stats.js';
import { openResume, skipLogged } from './resume.js';
import { CliProgress } from './progress.js';
import { onStopSignals } from './signals.js';
import { stopSignals, type StopSignal } from '../job/stop-signals.js';
import { tolerateFailingStderr } from './stderr.js';
import type { ResumeMatcher } from '../job/results-log.js';

export class RunCommand extends Command {
  static override paths = [['run'], Command.Default];
  static override usage = Command.Usage({
    description: 'run a job spec over JSON lines',
    details: `
      Reads one JSON item per line from \`--data\` (or stdin), runs the spec's handler on each
      item in a pool of long-lived children, and writes one JSON result per line:
      \`{"line", "data", "exit", "value"?, "error"?, "stdout", "stderr", "timedOut"?}\`.

      Exit status: 0 when every item exited 0, 1 when any item failed, 2 for usage, spec or
      setup errors (-o naming the input, a --resume whose input changed), 130 after Ctrl-C,
      143 after SIGTERM.
    `,
    examples: [
      ['Run a spec over a file', '$0 run -s spec.yml -d items.jsonl'],
      ['Read stdin, 4 children, 30 s per item, results in input order', 'cat items.jsonl | $0 run -s spec.yml -p 4 --timeout 30 --keep-order'],
      ['Write results to a file; run again after a stop to do only the items left', '$0 run -s spec.yml -d items.jsonl -o results.jsonl --resume'],
    ],
  });

  spec = Option.String('-s,--spec', { description: 'job spec file (YAML or JSON); required' });
  data = Option.String('-d,--data', { description: 'JSON lines input file; - or nothing for stdin' });
  output = Option.String('-o,--output', { description: 'write results to this file instead of stdout (not the input file)' });
  processes = Option.String('-p,-n,--processes,--n-processes', { validator: flagChecks.positiveInteger, description: 'number of children (default: number of CPUs)' });
  timeout = Option.String('--timeout', { validator: flagChecks.timeout, description: 'per-item timeout in seconds; the child is killed and replaced (0 or none: no timeout)' });
  setupTimeout = Option.String('--setup-timeout', { validator: flagChecks.setupTimeout, description: 'seconds a child may take to load the code and run the setup hook (default 120)' });
  keepOrder = Option.Boolean('--keep-order', false, { description: 'write results in input order (default: completion order)' });
  handler = Option.String('--handler', { description: 'handler function name (overrides exec_info.handler)' });
  setupHook = Option.String('--setup-hook', { description: 'setup hook name (overrides exec_info.setup_hook)' });
  onBadLine = Option.String('--on-bad-line', 'result', { validator: t.isEnum(['result', 'fail'] as const), description: 'for a line that is not JSON: "result" (an exit 65 result, the default) or "fail" (stop the run)' });
  retries = Option.String('--retries', { validator: flagChecks.count, description: 'run an item again, up to this many times, after its child died or it timed out (default 0)' });
  retryDelay = Option.String('--retry-delay', { validator: flagChecks.delay, description: 'seconds before the first retry, doubling for each further one (default 0.1)' });
  retryOn = Option.String('--retry-on', { description: 'which failures are retried: a comma-separated list of crash, timeout, error (default crash,timeout)' });
  maxTasksPerWorker = Option.String('--max-tasks-per-worker', { validator: flagChecks.positiveInteger, description: 'replace a child, between items, after it has run this many items' });
  maxMemory = Option.String('--max-memory', { validator: flagChecks.megabytes, description: 'replace a child, between items, once its resident memory is above this many MB' });
  stats = Option.Boolean('--stats', false, { description: 'print counts, item latency and each child\'s CPU time and peak memory on stderr at the end' });
  statsFile = Option.String('--stats-file', { description: 'write the figures of --stats to this file as JSON at the end' });
  resume = Option.Boolean('--resume', false, { description: 'skip the lines that already have a final result in the -o file, and append the others' });
  progress = Option.Boolean('--progress', { description: 'show a progress line on stderr (default: when stderr is a terminal and the results are not written there); --no-progress: never' });
  exitFromReturn = Option.Boolean('--exit-from-return', { description: 'an integer the handler returns is its item\'s exit status (the default, or the spec\'s exit_from_return); --no-exit-from-return: it is only the value' });
  redis = Option.String('--redis', { description: 'run the items on `polytask worker` processes over Redis at this URL: redis://[user:password@]host:port[/db], rediss:// or redis+unix:///path (docs/scale-out.md)' });
  redisTimeout = Option.String('--redis-timeout', { validator: flagChecks.setupTimeout, description: 'with --redis: seconds Redis may be unreachable before the run fails (default 30)' });
  pipeline = Option.String('--pipeline', { validator: flagChecks.positiveInteger, description: 'items in flight per child (default: adapts to the item time)' });

  override async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    tolerateFailingStderr(stderr);
    const missing = specMissing(this.spec, 'run', stderr);
    if (missing !== undefined) return missing;
    if (this.resume && this.output === undefined) return reportError(stderr, new Error('--resume needs -o FILE: the results file to resume from and append to'));
    const spec = await loadSpecForCli(this.spec!, { handler: this.handler, setupHook: this.setupHook, exitFromReturn: this.exitFromReturn }, stderr);
    if (typeof spec === 'number') return spec;
    let resume: ResumeMatcher | undefined;
    try {
      // before anything is opened for writing (--resume repairs the -o file in place)
      await checkDataAndOutput(this.data, this.output, this.context.stdin);
      if (this.resume) resume = await openResume(this.output!, this.data, stderr);
    } catch (error) {
      return reportError(stderr, error);
    }
    const input = this.data === undefined || this.data === '-' ? this.context.stdin : openData(this.data);
    const toFile = this.output !== undefined;
    const output = toFile ? createWriteStream(this.output!, { flags: resume === undefined ? 'w' : 'a' }) : stdout;
    try {
      await Promise.all([
        input === this.context.stdin ? undefined : opened(input, `cannot read --data ${this.data}`),
        toFile ? opened(output, `cannot write --output ${this.output}`) : undefined,
      ]);
    } catch (error) {
      if (input !== this.context.stdin) input.destroy();
      if (toFile) output.destroy();
      return reportError(stderr, error);
    }
    let retryOn;
    try {
      retryOn = this.retryOn === undefined ? undefined : parseRetryOn(this.retryOn);
    } catch (error) {
      return reportError(stderr, error, exitCodes.usage);
    }
    if (this.redisTimeout !== undefined && this.redis === undefined) return reportError(stderr, new Error('--redis-timeout is for a run with --redis'));
    const localOnly = this.#localOnlyFlag();
    if (this.redis !== undefined && localOnly !== undefined) return reportError(stderr, new Error(`${localOnly}: set on the workers (polytask worker ${localOnly}), not with --redis`));
    try {
      if (this.redis !== undefined) redisTarget(this.redis, '--redis');
    } catch (error) {
      return reportError(stderr, error);
    }
    const progress = CliProgress.start({ force: this.progress, stderr, results: toFile ? undefined : stdout, dataFile: input === this.context.stdin ? undefined : this.data });
    const abort = new AbortController();
    const shared = {
      ...(this.retries === undefined ? {} : { retries: this.retries }),
      ...(this.retryDelay === undefined ? {} : { retryDelay: this.retryDelay * 1000 }),
      ...(retryOn === undefined ? {} : { retryOn }),
      // --timeout 0: no timeout, as for timeout(1)
      ...(this.timeout === undefined || this.timeout === 0 ? {} : { timeout: secondsToMs(this.timeout) }),
    };
    const failFast = this.onBadLine === 'fail';
    // children that write their own output lines get the input as it was read, a block of lines
    // at a time, where nothing needs each item in the parent: no order to keep, no timeout to
    // time it, no item error to retry, no log to match it with
    const byBlocks = !this.keepOrder && shared.timeout === undefined && !(retryOn?.includes('error') ?? false)
      && resume === undefined && !failFast && this.maxTasksPerWorker === undefined;
    const pool = specExecutor(spec, this.redis !== undefined ? { ...shared, redis: this.redis, ...(this.redisTimeout === undefined ? {} : { redisTimeout: secondsToMs(this.redisTimeout) }), onFatal: (error) => abort.abort(error) } : {
      ...shared,
      ...(this.processes === undefined ? {} : { processes: this.processes }),
      ...(this.maxTasksPerWorker === undefined ? {} : { maxTasksPerWorker: this.maxTasksPerWorker }),
      ...(this.maxMemory === undefined ? {} : { maxMemoryMb: this.maxMemory }),
      ...(this.setupTimeout === undefined ? {} : { setupTimeout: secondsToMs(this.setupTimeout) }),
      ...(this.pipeline === undefined ? {} : { pipeline: this.pipeline }),
      onWorkerOutput: (chunk) => (progress === undefined ? stderr.write(chunk) : progress.write(chunk)),
    });
    // to a regular file (or /dev/null) the children write their output lines themselves: this
    // process only counts them
    if (byBlocks && pool instanceof ProcessPool) {
      const fd = sharedOutputFd(output);
      if (fd !== undefined) pool.writeLinesTo(fd);
    }
    // SIGINT and SIGTERM stop the run and end the children at once, whatever the run waits on
    // (children starting, a write to a stdout nobody reads); a busy child has half a second to
    // go before it is killed. A second signal while stopping exits at once.
    const signals = onStopSignals(() => {
      abort.abort();
      void pool.close({ graceMs: 500 });
    });
    try {
      await pool.start();
    } catch (error) {
      progress?.stop();
      await pool.close();
      signals.remove();
      if (input !== this.context.stdin) input.destroy();
      if (toFile) output.destroy();
      if (signals.received === undefined) return reportError(stderr, error);
      const stopped = stopSignals[signals.received];
      stderr.write(`polytask: ${stopped.word} while the children started; no results written\n`);
      return stopped.status;
    }

    // the output went away (a reader that stopped, a full disk): stop the run
    const writer = new LineWriter(output, (error) => abort.abort(new OutputError(`cannot write the results: ${error.message}`, { cause: error })));
    const started = performance.now();
    let failures = 0;
    // failures that are a returned integer read as the exit status
    let returned = 0;
    let total = 0;
    let resumed = 0;
    let stoppedBy: StopSignal | undefined;
    // children that decode each item on its own report a line that is not JSON, so lines are not
    // parsed here first only to check them; with --on-bad-line fail they are (no later line
    // starts), and with --resume (which parses each line anyway, to match it with the log)
    const checked = failFast || resume !== undefined || !pool.decodesEachItem;
    const lines = resume === undefined ? readJsonLines(input, checked) : skipLogged(readJsonLines(input, checked), resume, (skipped, failed) => {
      progress?.meter.skip(skipped, failed);
      total += skipped;
      resumed += skipped;
      failures += failed;
    });
    const asRead = byBlocks && pool instanceof ProcessPool && pool.takesLines;
    // over Redis, the same where the retry policy has nothing to do: the lines go in blocks
    const asBlocks = pool instanceof RemoteExecutor && !this.keepOrder && shared.timeout === undefined && (this.retries ?? 0) === 0 && resume === undefined && !failFast;
    const sink = (text: string | readonly Buffer[], count: number, failed: number, fromReturn: number) => {
      total += count;
      failures += failed;
      returned += fromReturn;
      progress?.meter.add(count, failed);
      return text.length === 0 ? Promise.resolve() : writer.write(text);
    };
    try {
      if (asRead || asBlocks) {
        if (asRead) await runLines(pool, input, sink, abort.signal);
        else if (asBlocks) await runRemoteLines(pool, input, sink, abort.signal);
        return failures > 0 ? exitCodes.itemFailed : exitCodes.ok;
      }
      const batches = streamResults(pool, lines, {
        ordered: this.keepOrder,
        chunked: true,
        signal: abort.signal,
        submit: (item: InputLine, done: (result: RawResult) => void) => {
          if (item.error === undefined) pool.submitRaw(item.text, done);
          else if (failFast) abort.abort(item.error);
          else done(badLineResult(item.error));
        },
        toResult: (item, _index, answer) => {
          const result = !checked && answer.exit === exitCodes.dataError ? undecoded(item, answer) : answer;
          return { text: resultLine(item, result), exit: result.exit, fromReturn: result.fromReturn === true };
        },
      });
      for await (const batch of batches) {
        total += batch.length;
        let text = '';
        let failed = 0;
        for (const result of batch) {
          if (result.exit !== 0) failed++;
          if (result.fromReturn) returned++;
          text += result.text;
        }
        failures += failed;
        progress?.meter.add(batch.length, failed);
        await writer.write(text);
      }
      // a changed or shorter input found while reading stdin: reported once what ran is written
      resume?.finish();
      return failures > 0 ? exitCodes.itemFailed : exitCodes.ok;
    } catch (error) {
      // the progress line goes before any message, or it would be redrawn over it
      progress?.stop();
      if (error instanceof ResumeError) return reportError(stderr, error);
      if (error instanceof AbortError) {
        const reason = abort.signal.reason;
        if (reason instanceof Error && reason.name === 'ParseError') return reportError(stderr, reason, exitCodes.itemFailed);
        if (reason instanceof ConnectionError) return reportError(stderr, reason, exitCodes.itemFailed);
        if (reason instanceof OutputError) {
          // a reader that stopped reading (`| head`) ends the run quietly, as SIGPIPE would
          if ((reason.cause as NodeJS.ErrnoException).code === 'EPIPE') return exitCodes.brokenPipe;
          return reportError(stderr, reason, exitCodes.itemFailed);
        }
        // reported once the pool is closed: output lines its children still write to the
        // results themselves as they stop are counted
        stoppedBy = signals.received ?? 'SIGINT';
        return stopSignals[stoppedBy].status;
      }
      throw error;
    } finally {
      progress?.stop();
      const stats = this.stats || this.statsFile !== undefined ? pool.stats() : undefined;
      // after a signal: waits for the close the signal started
      await pool.close();
      await writer.end(toFile);
      // only now: a second signal during the stop above exits at once
      signals.remove();
      if (input !== this.context.stdin) input.destroy();
      if (stoppedBy !== undefined) stderr.write(`polytask: ${stopSignals[stoppedBy].word}; ${total - resumed} results written\n`);
      if (failures > 0) stderr.write(`polytask: ${failures} of ${total} items failed\n`);
      if (returned > 0) stderr.write(`polytask: ${returned === 1 ? '1 item' : `${returned} items`} returned a non-zero number, read as ${returned === 1 ? 'its' : 'their'} exit status; see --no-exit-from-return\n`);
      const elapsed = performance.now() - started;
      if (stats !== undefined && this.stats) stderr.write(formatStats(stats, elapsed));
      if (stats !== undefined && this.statsFile !== undefined) await writeStatsFile(this.statsFile, stats, elapsed).catch((error: Error) => stderr.write(`polytask: --stats-file: ${error.message}\n`));
    }
  }

  // a flag of the local children, which workers set for themselves
  #localOnlyFlag(): string | undefined {
    if (this.processes !== undefined) return '-p';
    if (this.pipeline !== undefined) return '--pipeline';
    if (this.maxTasksPerWorker !== undefined) return '--max-tasks-per-worker';
    if (this.maxMemory !== undefined) return '--max-memory';
    if (this.setupTimeout !== undefined) return '--setup-timeout';
    return undefined;
  }
}

// Resolves once a file stream is open; rejects with `what` and the system's reason
async function opened(stream: Readable | Writable, what: string): Promise<void> {
  try {
    await pEvent(stream, 'open');
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
  }
}
