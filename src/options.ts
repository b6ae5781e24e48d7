// Checks shared by every option-taking API: typanion schemas, and messages that name the
// option and echo the bad value
import * as t from 'typanion';
import { OptionError } from './errors.js';

function shown(value: unknown): string {
  return `\`${String(value)}\` (${typeof value})`;
}

// A schema for one option: a typanion validator, what it expects in words, and how a bad
// value is echoed (default: `String(value)` and its type)
export interface OptionSchema<T> {
  test: t.StrictValidator<unknown, T>;
  expected: string;
  show?: (value: unknown) => string;
}

export const isPositiveInteger: OptionSchema<number> = { test: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]), expected: 'a positive integer' };
export const isNonNegativeInteger: OptionSchema<number> = { test: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(0)]), expected: 'a non-negative integer' };
export const isPositiveNumber: OptionSchema<number> = { test: t.cascade(t.isNumber(), [t.isAtLeast(Number.MIN_VALUE), t.isAtMost(Number.MAX_VALUE)]), expected: 'a positive number' };
export const isNonNegativeMs: OptionSchema<number> = { test: t.cascade(t.isNumber(), [t.isAtLeast(0), t.isAtMost(Number.MAX_VALUE)]), expected: 'a non-negative number of ms' };
// One of a few strings, e.g. isOneOf(['thread', 'process'])
export function isOneOf<const V extends string>(values: readonly V[]): OptionSchema<V> {
  return { test: t.isEnum(values), expected: values.map((v) => `"${v}"`).join(', ').replace(/, ([^,]*)$/, ' or $1') };
}
// An array of some of a few strings, e.g. retryOn
export function isListOf<const V extends string>(values: readonly V[]): OptionSchema<V[]> {
  return {
    test: t.isArray(t.isEnum(values)),
    expected: `an array of ${values.map((v) => `"${v}"`).join(', ')}`,
    show: (value) => (Array.isArray(value) ? `\`${JSON.stringify(value)}\`` : shown(value)),
  };
}
export const isFilePath: OptionSchema<string> = { test: t.cascade(t.isString(), [t.hasMinLength(1)]), expected: 'a file path' };
type AnyFunction = (...args: never[]) => unknown;
export const isFunction: OptionSchema<AnyFunction> = { test: t.makeValidator<unknown, AnyFunction>({ test: (value): value is AnyFunction => typeof value === 'function' }), expected: 'a function' };
export const isSignal: OptionSchema<AbortSignal> = { test: t.isInstanceOf(AbortSignal), expected: 'an AbortSignal' };
export const isIterable: OptionSchema<Iterable<unknown> | AsyncIterable<unknown>> = {
  test: t.makeValidator<unknown, Iterable<unknown> | AsyncIterable<unknown>>({
    test: (value): value is Iterable<unknown> | AsyncIterable<unknown> => value !== null && typeof value === 'object' && (Symbol.iterator in value || Symbol.asyncIterator in value),
  }),
  expected: 'an Iterable or AsyncIterable',
};

// Checks one option's value against its schema; returns the value
export function checkOption<T>(name: string, value: unknown, schema: OptionSchema<T>): T {
  if (!schema.test(value)) throw new OptionError(`Expected the \`${name}\` option to be ${schema.expected}, got ${(schema.show ?? shown)(value)}`);
  return value;
}

// Checks each option the object sets (one left undefined is not checked) against its schema
export function checkOptions<O extends object>(options: O, schemas: { readonly [K in keyof O]?: OptionSchema<unknown> }): void {
  for (const key of Object.keys(schemas) as (keyof O & string)[]) {
    const value = options[key];
    if (value !== undefined) checkOption(key, value, schemas[key]!);
  }
}

export function positiveInteger(name: string, value: number): number {
  return checkOption(name, value, isPositiveInteger);
}

export function nonNegativeInteger(name: string, value: number): number {
  return checkOption(name, value, isNonNegativeInteger);
}

// `resultsLog` and `resume`, as JobRunner and SynchronousJob take them
export function resultsLogOptions(options: { resultsLog?: unknown; resume?: unknown }): void {
  if (options.resume && options.resultsLog === undefined) throw new OptionError('Expected the `resultsLog` option with `resume: true`: the file to resume from');
  checkOptions(options, { resultsLog: isFilePath });
}

export function iterable<T>(name: string, value: Iterable<T> | AsyncIterable<T>): Iterable<T> | AsyncIterable<T> {
  checkOption(name, value, isIterable);
  return value;
}

// The keys of an options interface, as a list checked by the compiler to hold every key of T
// (a key added to the interface but not here fails to compile). The list may name a key ahead
// of the interface. Usage: `export const fooOptionKeys = optionKeys<FooOptions>()(['a', 'b']);`
export function optionKeys<T>() {
  return <const K extends readonly string[]>(keys: K & (Exclude<keyof T & string, K[number]> extends never ? unknown : { missing: Exclude<keyof T & string, K[number]> })): K => keys;
}

// `graceMs`, the one option of close() and terminate()
export const closeOptionKeys = ['graceMs'] as const;

// Refuses an options object with a key not in `keys` (a typo, or an option of another tool),
// naming the key and the closest known one; `what` names the function, e.g. "task()"
export function knownOptions(what: string, options: unknown, keys: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionError(`Expected the options of ${what} to be an object, got ${Array.isArray(options) ? `\`${JSON.stringify(options)}\` (array)` : shown(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (keys.includes(key)) continue;
    const close = closest(key, keys);
    throw new OptionError(close === undefined
      ? `Unknown option \`${key}\` for ${what}; its options are: ${keys.join(', ')}`
      : `Unknown option \`${key}\` for ${what}; did you mean \`${close}\`?`);
  }
}

// The known key nearest to `key` (case, `_` and `-` ignored), if it is within a third of its length
function closest(key: string, keys: readonly string[]): string | undefined {
  const plain = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const wanted = plain(key);
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const known of keys) {
    const distance = editDistance(wanted, plain(known));
    if (distance < bestDistance) [best, bestDistance] = [known, distance];
  }
  return best;
}

// Edits (insert, delete, substitute, swap two neighbours) from a to b
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i]!;
      const above = rows[i - 1]!;
      let d = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row[j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

// The part of an options object meant for another API (JobRunner's options for its pool)
export function pickOptions<T extends object, K extends keyof T & string>(options: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) if (key in options) out[key] = options[key];
  return out;
}
