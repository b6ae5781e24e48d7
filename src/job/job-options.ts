// The checks of SynchronousJob's `func`, `args` and `logger` options; messages name the option and
// echo the bad value
import { inspect } from 'node:util';
import * as t from 'typanion';
import { OptionError } from '../errors.js';
import { checkOption, isFunction, type OptionSchema } from '../options.js';

// A bad value echoed as util.inspect shows it (an object's keys, a string's quotes)
const inspected = (value: unknown) => `\`${inspect(value, { depth: 0, breakLength: Infinity })}\` (${value === null ? 'null' : typeof value})`;

const isArgs: OptionSchema<unknown[]> = { test: t.isArray(t.isUnknown()), expected: 'an array', show: inspected };

const isErrorLogger = t.makeValidator<unknown, { error(message: string): void }>({
  test: (value): value is { error(message: string): void } => typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'function',
});
const isLogger: OptionSchema<((message: string) => void) | { error(message: string): void }> = {
  test: t.isOneOf([isFunction.test as t.StrictValidator<unknown, (message: string) => void>, isErrorLogger]),
  expected: 'a function or an object with an error() method (console, a pino logger)',
  show: inspected,
};

// `func`: a function, or an object (a { module, name } reference or a job spec, told apart later)
type Func = ((...args: never[]) => unknown) | object;
export const isFuncOption: OptionSchema<Func> = {
  test: t.makeValidator<unknown, Func>({ test: (value): value is Func => typeof value === 'function' || (typeof value === 'object' && value !== null) }),
  expected: 'a function, a { module, name } reference or a job spec',
};

// `args`: an array; for a job spec, of JSON values (they travel in the handler's init message)
export function argsOption(args: unknown, forSpec: boolean): void {
  if (args === undefined) return;
  checkOption('args', args, isArgs);
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
  const checked = checkOption('logger', logger, isLogger);
  return typeof checked === 'function' ? checked : (message) => checked.error(message);
}
