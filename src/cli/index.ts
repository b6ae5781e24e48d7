// The polytask command line: `run` (the default), `validate` and `worker`
import { readFileSync } from 'node:fs';
import { Builtins, Cli, UsageError, type BaseContext } from 'clipanion';
import { exitCodes, reportError } from './common.js';
import { RunCommand } from './run.js';
import { ValidateCommand } from './validate.js';
import { WorkerCommand } from './worker.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function createCli(): Cli {
  const cli = new Cli({ binaryName: 'polytask', binaryLabel: 'polytask', binaryVersion: version, enableColors: process.stdout.isTTY === true });
  cli.register(RunCommand);
  cli.register(ValidateCommand);
  cli.register(WorkerCommand);
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  return cli;
}

// `--timeout -1` as `--timeout=-1`: clipanion takes a word that starts with "-" for a flag, and
// would say "Not enough arguments" instead of checking the value (and naming it)
export function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg === '--') return [...out, ...argv.slice(i)];
    if (next !== undefined && /^--?[A-Za-z][\w-]*$/.test(arg) && /^-\.?\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

// A bad flag value is one line naming the flag and the value; a command line clipanion cannot
// parse (an unknown flag, say) gets its message and the usage
function usageError(cli: Cli, error: unknown, stderr: BaseContext['stderr']): number {
  if (error instanceof UsageError) stderr.write(`polytask: ${error.message}\n`);
  else stderr.write(cli.error(error, { colored: false }));
  return exitCodes.usage;
}

// Runs the CLI and resolves to the exit status; usage errors print without a stack and give 2
export async function main(argv: string[], context: Partial<BaseContext> = {}): Promise<number> {
  const cli = createCli();
  const full = { ...Cli.defaultContext, ...context };
  // no arguments at all: the list of commands, on stderr as a usage error (there is no spec to run)
  if (argv.length === 0) {
    full.stderr.write(cli.usage(null, { colored: false }));
    return exitCodes.usage;
  }
  let command;
  try {
    command = cli.process(joinNegativeValues(argv), full);
  } catch (error) {
    return usageError(cli, error, full.stderr);
  }
  // help and version go through clipanion; our commands run here so that every error goes
  // to stderr (clipanion prints them on stdout, where the results are)
  if (command.help || !(command instanceof RunCommand || command instanceof ValidateCommand)) return cli.run(command, full);
  command.context = full;
  try {
    return await command.validateAndExecute();
  } catch (error) {
    if (error instanceof UsageError) return usageError(cli, error, full.stderr);
    return reportError(full.stderr, error, exitCodes.itemFailed);
  }
}
