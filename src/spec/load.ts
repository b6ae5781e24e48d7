// Loads a job spec from a YAML/JSON file or an object and resolves it to a command to run
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { SpecError } from '../errors.js';
import { validateSpec, type JobSpec, type CodeSource } from './schema.js';
import { resolveExecType, type Launch } from './interpreter.js';
import { knownOptions, optionKeys } from '../options.js';

// A validated spec with every path made absolute and the interpreter chosen
export interface ResolvedSpec {
  readonly spec: JobSpec;
  readonly source: string;
  readonly launch: Launch;
  readonly code: CodeSource | null;
  readonly handler: string;
  readonly setupHook: string | null;
  /** Arguments every call's handler gets as `context.args` (SynchronousJob's `args`; JSON values) */
  readonly handlerArgs?: readonly unknown[];
}

export const specOverrideKeys = optionKeys<SpecOverrides>()(['handler', 'setupHook']);
export interface SpecOverrides {
  handler?: string | undefined;
  setupHook?: string | undefined;
}

// Reads and resolves a spec file (.yml, .yaml or .json)
export async function loadSpec(file: string | URL, overrides: SpecOverrides = {}): Promise<ResolvedSpec> {
  knownOptions('loadSpec()', overrides, specOverrideKeys);
  const filePath = file instanceof URL ? file.pathname : path.resolve(file);
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    throw new SpecError('', `cannot read job spec ${filePath}: ${(error as Error).message}`, filePath, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    throw new SpecError('', `job spec ${filePath} is not valid YAML/JSON: ${(error as Error).message}`, undefined, { cause: error });
  }
  return resolveSpec(parsed, { baseDir: path.dirname(filePath), source: filePath, ...overrides });
}

export const resolveOptionKeys = optionKeys<ResolveOptions>()([...specOverrideKeys, 'baseDir', 'source']);
export interface ResolveOptions extends SpecOverrides {
  baseDir?: string;
  source?: string;
}

// Validates a spec object and resolves paths against `baseDir` (default: the working directory)
export function resolveSpec(value: unknown, options: ResolveOptions = {}): ResolvedSpec {
  knownOptions('resolveSpec()', options, resolveOptionKeys);
  if (isResolvedSpec(value)) return applyOverrides(value, options);
  const source = options.source ?? 'spec object';
  const baseDir = options.baseDir ?? process.cwd();
  const spec = validateSpec(value, source);
  const launch = resolveExecType(spec.exec_type, baseDir);
  let code: CodeSource | null = null;
  const raw = spec.exec_info.code;
  if (typeof raw === 'string') code = { type: 'string', data: raw };
  else if (raw !== undefined) code = raw.type === 'path' ? { type: 'path', data: path.resolve(baseDir, raw.data) } : raw;
  return applyOverrides(
    { spec, source, launch, code, handler: spec.exec_info.handler ?? 'main', setupHook: spec.exec_info.setup_hook ?? null },
    options,
  );
}

function applyOverrides(spec: ResolvedSpec, overrides: SpecOverrides): ResolvedSpec {
  const out = { ...spec };
  for (const [key, value] of [['handler', overrides.handler], ['setupHook', overrides.setupHook]] as const) {
    if (value === undefined) continue;
    if (!/^[A-Za-z_$][\w$]*$/.test(value)) {
      throw new SpecError(key === 'handler' ? 'exec_info.handler' : 'exec_info.setup_hook', `expected a function name, got ${JSON.stringify(value)}`, value);
    }
    out[key] = value;
  }
  return out;
}

export function isResolvedSpec(value: unknown): value is ResolvedSpec {
  return typeof value === 'object' && value !== null && 'launch' in value && 'spec' in value && 'handler' in value;
}
