// Checks shared by every option-taking API; messages name the option and echo the bad value
import { OptionError } from './errors.js';

function shown(value: unknown): string {
  return `\`${String(value)}\` (${typeof value})`;
}

export function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new OptionError(`Expected the \`${name}\` option to be a positive integer, got ${shown(value)}`);
  return value;
}

export function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new OptionError(`Expected the \`${name}\` option to be a non-negative integer, got ${shown(value)}`);
  return value;
}

// `resultsLog` and `resume`, as JobRunner and SynchronousJob take them
export function resultsLogOptions(options: { resultsLog?: unknown; resume?: unknown }): void {
  if (options.resume && options.resultsLog === undefined) throw new OptionError('Expected the `resultsLog` option with `resume: true`: the file to resume from');
  if (options.resultsLog !== undefined && (typeof options.resultsLog !== 'string' || options.resultsLog === '')) throw new OptionError(`Expected the \`resultsLog\` option to be a file path, got ${shown(options.resultsLog)}`);
}

export function iterable<T>(name: string, value: Iterable<T> | AsyncIterable<T>): Iterable<T> | AsyncIterable<T> {
  if (value === null || typeof value !== 'object' || !(Symbol.iterator in value || Symbol.asyncIterator in value)) {
    throw new OptionError(`Expected the \`${name}\` option to be an Iterable or AsyncIterable, got ${shown(value)}`);
  }
  return value;
}
