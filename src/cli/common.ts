// What the CLI commands share: exit statuses, flag checks, spec loading and printing user errors
import type { Writable } from 'node:stream';
import * as t from 'typanion';
import { PolytaskError } from '../errors.js';
import { loadSpec, type ResolvedSpec, type SpecOverrides } from '../spec/load.js';

import { exitCodes } from '../protocol/exit-codes.js';

export { exitCodes };

// the longest delay a Node timer keeps (2^31 - 1 ms), in whole seconds: beyond it a timer fires at once
export const maxSeconds = 2_147_483;

// A clipanion validator for a number flag: the text must be a decimal number (1.5, 1e3) that
// `ok` allows; `expected` says what is, in the message clipanion prints as
// "Invalid value for --timeout: expected a number of seconds, 0 or more (got -1)"
export function numberFlag(expected: string, ok: (value: number) => boolean) {
  return t.makeValidator<unknown, number>({
    test: (value, state): value is number => {
      const number = typeof value === 'number' ? value : typeof value === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value) ? Number(value) : NaN;
      if (!(Number.isFinite(number) && ok(number))) {
        state?.errors?.push(`${state.p ?? '.'}: Expected ${expected} (got ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`);
        return false;
      }
      if (number !== value) {
        if (state?.coercions === undefined || state.coercion === undefined) return false;
        state.coercions.push([state.p ?? '.', state.coercion.bind(null, number)]);
      }
      return true;
    },
  });
}

export const flagChecks = {
  // -p, --max-tasks-per-worker, --pipeline
  positiveInteger: numberFlag('a whole number, 1 or more', (n) => Number.isSafeInteger(n) && n >= 1),
  // --retries
  count: numberFlag('a whole number, 0 or more', (n) => Number.isSafeInteger(n) && n >= 0),
  // --timeout: 0 turns it off, as for timeout(1)
  timeout: numberFlag(`a number of seconds, 0 (no timeout) or more, at most ${maxSeconds}`, (n) => n >= 0 && n <= maxSeconds),
  // --setup-timeout
  setupTimeout: numberFlag(`a number of seconds above 0, at most ${maxSeconds}`, (n) => n > 0 && n <= maxSeconds),
  // --retry-delay
  delay: numberFlag(`a number of seconds, 0 or more, at most ${maxSeconds}`, (n) => n >= 0 && n <= maxSeconds),
  // --max-memory
  megabytes: numberFlag('a number of MB above 0', (n) => n > 0),
};

// Seconds from the command line to the whole ms the API takes; a positive value never becomes 0
export function secondsToMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

// Prints an error as one clear message; a stack only for what is not a user error
export function reportError(stderr: Writable, error: unknown, code: number = exitCodes.usage): number {
  if (error instanceof PolytaskError) {
    stderr.write(`polytask: ${error.name}: ${error.message}\n`);
    if (error.cause instanceof Error && 'traceback' in error.cause && error.cause.traceback) {
      stderr.write(`${String(error.cause.traceback).trimEnd()}\n`);
    }
  } else if (error instanceof Error) {
    stderr.write(`polytask: ${error.message}\n`);
  } else {
    stderr.write(`polytask: ${String(error)}\n`);
  }
  return code;
}

// Says that -s is missing, in one line; undefined when it is there
export function specMissing(spec: string | undefined, command: string, stderr: Writable): number | undefined {
  if (spec !== undefined) return undefined;
  stderr.write(`polytask: ${command} needs -s,--spec FILE: the job spec (YAML or JSON); see polytask ${command} --help\n`);
  return exitCodes.usage;
}

// Loads the spec, or prints why not and returns the exit status
export async function loadSpecForCli(file: string, overrides: SpecOverrides, stderr: Writable): Promise<ResolvedSpec | number> {
  try {
    return await loadSpec(file, overrides);
  } catch (error) {
    return reportError(stderr, error);
  }
}
