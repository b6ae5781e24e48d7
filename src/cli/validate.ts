// `polytask validate -s spec.yml`: loads the spec and starts the children, without data
import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { ProcessPool } from '../pool/process-pool.js';
import { exitCodes, loadSpecForCli, reportError } from './common.js';

export class ValidateCommand extends Command {
  static override paths = [['validate']];
  static override usage = Command.Usage({
    description: 'check a job spec: load it, start the children, run the setup hook',
    examples: [['Check a spec', '$0 validate -s spec.yml']],
  });

  spec = Option.String('-s,--spec', { required: true, description: 'job spec file (YAML or JSON)' });
  processes = Option.String('-p,--processes', '1', { validator: t.cascade(t.isNumber(), [t.isInteger(), t.isPositive()]), description: 'children to start (default 1)' });
  handler = Option.String('--handler', { description: 'handler function name (overrides exec_info.handler)' });
  setupHook = Option.String('--setup-hook', { description: 'setup hook name (overrides exec_info.setup_hook)' });

  override async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const spec = await loadSpecForCli(this.spec, { handler: this.handler, setupHook: this.setupHook }, stderr);
    if (typeof spec === 'number') return spec;
    const pool = new ProcessPool(spec, { processes: this.processes, onWorkerOutput: (chunk) => stderr.write(chunk) });
    try {
      const ready = await pool.start().then(() => pool.readyInfo());
      stdout.write(`ok: ${spec.source}: ${spec.launch.description}, ${ready}, handler ${spec.handler}${spec.setupHook ? `, setup hook ${spec.setupHook}` : ''}\n`);
      return exitCodes.ok;
    } catch (error) {
      return reportError(stderr, error);
    } finally {
      await pool.close();
    }
  }
}
