// What the CLI commands share: exit statuses, spec loading and printing user errors
import type { Writable } from 'node:stream';
import { PolytaskError } from '../errors.js';
import { loadSpec, type ResolvedSpec, type SpecOverrides } from '../spec/load.js';

export const exitCodes = {
  ok: 0,
  itemFailed: 1,
  usage: 2,
  badLine: 65,
  interrupted: 130,
  brokenPipe: 141,
  terminated: 143,
} as const;

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

// Loads the spec, or prints why not and returns the exit status
export async function loadSpecForCli(file: string, overrides: SpecOverrides, stderr: Writable): Promise<ResolvedSpec | number> {
  try {
    return await loadSpec(file, overrides);
  } catch (error) {
    return reportError(stderr, error);
  }
}
