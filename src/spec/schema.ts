// The job spec's schema: typanion validators, and messages that name the field and the bad value
import * as t from 'typanion';
import { SpecError } from '../errors.js';

export type BuiltinExecType = 'python2' | 'python3' | 'node';
export const builtinExecTypes: readonly BuiltinExecType[] = ['python2', 'python3', 'node'];

export interface CustomExecType {
  executable: string;
  handler?: string;
  args?: string[];
}

export interface CodeSource {
  type: 'path' | 'string';
  data: string;
}

// A job spec as written in a YAML/JSON file or passed to the API
export interface JobSpec {
  exec_type: BuiltinExecType | CustomExecType;
  exec_info: {
    code?: string | CodeSource;
    handler?: string;
    setup_hook?: string;
  };
  /**
   * multirunner's exit-status rule: a handler that returns an integer gives its item that
   * exit status (`return 3` is a failure with `exit: 3`, `return 0` a success). With `false`,
   * a returned integer is only the item's `value`, and `exit` is 0 unless the handler raised,
   * crashed or timed out. The CLI's `--no-exit-from-return` sets it to `false`.
   * @default true
   */
  exit_from_return?: boolean;
}

const isCustomExecType = t.isObject({
  executable: t.cascade(t.isString(), t.hasMinLength(1)),
  handler: t.isOptional(t.cascade(t.isString(), t.hasMinLength(1))),
  args: t.isOptional(t.isArray(t.isString())),
});
const isCodeSource = t.isObject({ type: t.isEnum(['path', 'string'] as const), data: t.isString() });
const isIdentifier = t.cascade(t.isString(), t.matchesRegExp(/^[A-Za-z_$][\w$]*$/));
const isExecInfo = t.isObject({
  code: t.isOptional(t.isUnknown()),
  handler: t.isOptional(isIdentifier),
  setup_hook: t.isOptional(isIdentifier),
});
const isSpecShape = t.isObject({ exec_type: t.isUnknown(), exec_info: t.isUnknown(), exit_from_return: t.isOptional(t.isBoolean()) });

// Turns typanion's `.a.b: Expected one of "x" or "y" (got "z")` into `a.b: expected "x" or "y", got "z"`
function reword(raw: string, prefix: string): string {
  const match = /^\.?([^:]*): (.*)$/s.exec(raw);
  const field = [prefix, match?.[1] ?? ''].filter(Boolean).join('.');
  let text = match?.[2] ?? raw;
  text = text
    .replace(/^Expected one of /, 'expected ')
    .replace(/^Expected /, 'expected ')
    .replace(/^Extraneous property \(got (.*)\)$/s, 'unknown field (value $1)')
    .replace(/ \(got (.*)\)$/s, ', got $1');
  return field === '' ? text : `${field}: ${text}`;
}

function check<T>(validator: t.StrictValidator<unknown, T>, value: unknown, prefix: string, errors: string[]): value is T {
  const found: string[] = [];
  if (validator(value, { errors: found })) return true;
  errors.push(...found.map((e) => reword(e, prefix)));
  return false;
}

// exec_info.code: a string of source, or {type, data}; required unless a custom handler brings its own
function checkCode(code: unknown, execType: unknown, errors: string[]): void {
  if (code === undefined) {
    if (typeof execType === 'string') errors.push(`exec_info.code: required for exec_type ${JSON.stringify(execType)}`);
  } else if (typeof code === 'object' && code !== null && !Array.isArray(code)) {
    check(isCodeSource, code, 'exec_info.code', errors);
  } else if (typeof code !== 'string') {
    errors.push(`exec_info.code: expected a string of source code or {type, data}, got ${JSON.stringify(code)}`);
  }
}

// Validates a spec object and returns it typed, or throws a SpecError listing every problem
export function validateSpec(value: unknown, source: string): JobSpec {
  const errors: string[] = [];
  if (check(isSpecShape, value, '', errors)) {
    const execType = value.exec_type;
    if (typeof execType === 'string') {
      if (!(builtinExecTypes as readonly string[]).includes(execType)) {
        errors.push(`exec_type: expected "python2", "python3", "node" or {executable, handler}, got ${JSON.stringify(execType)}`);
      }
    } else if (typeof execType === 'object' && execType !== null && !Array.isArray(execType)) {
      check(isCustomExecType, execType, 'exec_type', errors);
    } else {
      errors.push(`exec_type: expected "python2", "python3", "node" or {executable, handler}, got ${JSON.stringify(execType) ?? 'nothing'}`);
    }
    check(isExecInfo, value.exec_info, 'exec_info', errors);
    if (typeof value.exec_info === 'object' && value.exec_info !== null) {
      checkCode((value.exec_info as { code?: unknown }).code, execType, errors);
    }
  }
  if (errors.length > 0) {
    const message = errors.length === 1 ? errors[0]! : `\n  ${errors.join('\n  ')}`;
    throw new SpecError('', `invalid job spec (${source}): ${message}`, value);
  }
  return value as JobSpec;
}
