// `polytask validate -s spec.yml`: loads the spec and starts the children, without data
import { Command, Option } from 'clipanion';
import { specExecutor } from '../pool/runtimes.js';
import type { ResolvedSpec } from '../spec/load.js';
import { exitCodes, flagChecks, loadSpecForCli, reportError, secondsToMs, specMissing } from './common.js';

export class ValidateCommand extends Command {
  static override paths = [['validate']];
  static override usage = Command.Usage({
    description: 'check a job spec: load it, start the children, run the setup hook',
    details: `
      Prints \`ok: ...\` with the interpreter and its version, the handler and setup hook, and
      which file a relative \`exec_info.code\` path was found as (against the spec's folder, or the
      working directory when the spec's folder has no such file). Exit status 2 on any error.
    `,
    examples: [['Check a spec', '$0 validate -s spec.yml']],
  });

  spec = Option.String('-s,--spec', { description: 'job spec file (YAML or JSON); required' });
  processes = Option.String('-p,-n,--processes,--n-processes', '1', { validator: flagChecks.positiveInteger, description: 'children to start (default 1)' });
  handler = Option.String('--handler', { description: 'handler function name (overrides exec_info.handler)' });
  setupHook = Option.String('--setup-hook', { description: 'setup hook name (overrides exec_info.setup_hook)' });
  setupTimeout = Option.String('--setup-timeout', { validator: flagChecks.setupTimeout, description: 'seconds a child may take to load the code and run the setup hook (default 120)' });

  override async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const missing = specMissing(this.spec, 'validate', stderr);
    if (missing !== undefined) return missing;
    const spec = await loadSpecForCli(this.spec!, { handler: this.handler, setupHook: this.setupHook }, stderr);
    if (typeof spec === 'number') return spec;
    const pool = specExecutor(spec, {
      processes: this.processes,
      ...(this.setupTimeout === undefined ? {} : { setupTimeout: secondsToMs(this.setupTimeout) }),
      onWorkerOutput: (chunk) => stderr.write(chunk),
    });
    try {
      const ready = await pool.start().then(() => pool.readyInfo());
      stdout.write(`ok: ${spec.source}: ${spec.launch.description}, ${ready}, handler ${spec.handler}${spec.setupHook ? `, setup hook ${spec.setupHook}` : ''}${codeNote(spec)}\n`);
      return exitCodes.ok;
    } catch (error) {
      return reportError(stderr, error);
    } finally {
      await pool.close();
    }
  }
}

// Where a relative code path was found, e.g. ", code tests/test_py.py: /repo/tests/test_py.py (working directory)"
function codeNote(spec: ResolvedSpec): string {
  const found = spec.codePath;
  if (found === undefined) return '';
  return `, code ${found.given}: ${spec.code!.data} (${found.base === 'spec' ? "the spec's folder" : 'the working directory'})`;
}
