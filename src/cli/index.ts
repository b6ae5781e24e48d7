// The polytask command line: `run` (the default) and `validate`
import { readFileSync } from 'node:fs';
import { Builtins, Cli, UsageError, type BaseContext } from 'clipanion';
import { exitCodes, reportError } from './common.js';
import { RunCommand } from './run.js';
import { ValidateCommand } from './validate.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export function createCli(): Cli {
  const cli = new Cli({ binaryName: 'polytask', binaryLabel: 'polytask', binaryVersion: version, enableColors: process.stdout.isTTY === true });
  cli.register(RunCommand);
  cli.register(ValidateCommand);
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  return cli;
}

// Runs the CLI and resolves to the exit status; usage errors print without a stack and give 2
export async function main(argv: string[], context: Partial<BaseContext> = {}): Promise<number> {
  const cli = createCli();
  const full = { ...Cli.defaultContext, ...context };
  let command;
  try {
    command = cli.process(argv, full);
  } catch (error) {
    full.stderr.write(cli.error(error, { colored: false }));
    return exitCodes.usage;
  }
  // help and version go through clipanion; our commands run here so that every error goes
  // to stderr (clipanion prints them on stdout, where the results are)
  if (command.help || !(command instanceof RunCommand || command instanceof ValidateCommand)) return cli.run(command, full);
  command.context = full;
  try {
    return await command.validateAndExecute();
  } catch (error) {
    if (error instanceof UsageError) {
      full.stderr.write(cli.error(error, { colored: false }));
      return exitCodes.usage;
    }
    return reportError(full.stderr, error, exitCodes.itemFailed);
  }
}
