// The polytask command line: `run` (the default), `validate` and `worker`
import { readFileSync } from 'node:fs';
import { Builtins, Cli, UsageError, type BaseContext } from 'clipanion';
import { exitCodes, reportError } from './common.js';
import { RunCommand } from './run.js';
import { ValidateCommand } from './validate.js';
import { WorkerCommand } from './worker.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

type OurCommand = typeof RunCommand | typeof ValidateCommand | typeof WorkerCommand;

// The whole CLI, or one command of it (`only`)
export function createCli(only?: OurCommand): Cli {
  const cli = new Cli({ binaryName: 'polytask', binaryLabel: 'polytask', binaryVersion: version, enableColors: process.stdout.isTTY === true });
  if (only !== undefined) {
    cli.register(only);
    return cli;
  }
  cli.register(RunCommand);
  cli.register(ValidateCommand);
  cli.register(WorkerCommand);
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  return cli;
}

// The command a line names (run when it names none), unless it asks for help or the version:
// clipanion builds its parser from every command registered at every start (about 20 ms, and
// as much again of V8's optimizing compiler on another core, which the children starting
// need). A line that does not parse gets the same words from that command alone: run is the
// default command, so the whole CLI blames run for any line that names no other.
const builtinFlags = new Set([Builtins.HelpCommand, Builtins.VersionCommand].flatMap((command) => command.paths?.flat() ?? []));
function namedCommand(argv: readonly string[]): OurCommand | undefined {
  if (argv.some((arg) => builtinFlags.has(arg))) return undefined;
  if (argv[0] === 'validate') return ValidateCommand;
  if (argv[0] === 'worker') return WorkerCommand;
  return RunCommand;
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
  const full = { ...Cli.defaultContext, ...context };
  // no arguments at all: the list of commands, on stderr as a usage error (there is no spec to run)
  if (argv.length === 0) {
    full.stderr.write(createCli().usage(null, { colored: false }));
    return exitCodes.usage;
  }
  const args = joinNegativeValues(argv);
  const cli = createCli(namedCommand(args));
  let command;
  try {
    command = cli.process(args, full);
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
