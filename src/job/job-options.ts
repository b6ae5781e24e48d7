// The checks of SynchronousJob's `args` and `logger` options; messages name the option and
// echo the bad value
import { inspect } from 'node:util';
import { OptionError } from '../errors.js';

// `args`: an array; for a job spec, of JSON values (they travel in the handler's init message)
export function argsOption(args: unknown, forSpec: boolean): void {
  if (args === undefined) return;
  if (!Array.isArray(args)) throw new OptionError(`Expected the \`args\` option to be an array, got \`${inspect(args, { depth: 0, breakLength: Infinity })}\` (${typeof args})`);
  if (!forSpec) return;
  try {
    JSON.stringify(args, (_key, value: unknown) => {
      if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint' || (typeof value === 'number' && !Number.isFinite(value))) {
        throw new TypeError(`${typeof value === 'number' ? String(value) : typeof value} is not a JSON value`);
      }
      return value;
    });
  } catch (error) {
    throw new OptionError(`Expected the \`args\` option of a job spec to hold JSON values, got \`${inspect(args, { depth: 2, breakLength: Infinity })}\`: ${(error as Error).message}`, { cause: error });
  }
}

// The `logger` option as a function: a function, or an object's error() method (console, pino)
export function loggerOption(logger: unknown): (message: string) => void {
  if (logger === undefined) return (message) => process.stderr.write(`${message}\n`);
  if (typeof logger === 'function') return logger as (message: string) => void;
  if (typeof logger === 'object' && logger !== null && typeof (logger as { error?: unknown }).error === 'function') {
    return (message) => (logger as { error(message: string): void }).error(message);
  }
  throw new OptionError(`Expected the \`logger\` option to be a function or an object with an error() method (console, a pino logger), got \`${inspect(logger, { depth: 0, breakLength: Infinity })}\` (${logger === null ? 'null' : typeof logger})`);
}
