// Loads a job spec from a YAML/JSON file or an object and resolves it to a command to run
import { existsSync } from 'node:fs';
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
  // the spec's exit_from_return, or the override (see JobSpec)
  readonly exitFromReturn: boolean;
  /** For a relative `exec_info.code` path: the path as written, and where it was found
   * (`spec`: the spec file's folder; `cwd`: the working directory). */
  readonly codePath?: CodePathOrigin;
  /** Arguments every call's handler gets as `context.args` (SynchronousJob's `args`; JSON values) */
  readonly handlerArgs?: readonly unknown[];
}

export interface CodePathOrigin {
  readonly given: string;
  readonly base: 'spec' | 'cwd';
}

export const specOverrideKeys = optionKeys<SpecOverrides>()(['handler', 'setupHook', 'exitFromReturn']);
/** Fields of a job spec that loadSpec() and resolveSpec() callers may override */
export interface SpecOverrides {
  /**
   * The handler function's name, in place of the spec's `exec_info.handler`
   * @default the spec's, else 'main'
   */
  handler?: string | undefined;
  /**
   * The setup function's name, in place of the spec's `exec_info.setup_hook`
   * @default the spec's, else none
   */
  setupHook?: string | undefined;
  /**
   * In place of the spec's `exit_from_return`: a returned integer is the item's exit status
   * @default the spec's, else true
   */
  exitFromReturn?: boolean | undefined;
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
/** Options of resolveSpec(): the overrides, and where the spec came from */
export interface ResolveOptions extends SpecOverrides {
  /**
   * The folder relative paths are resolved against first (a spec file's folder)
   * @default the working directory
   */
  baseDir?: string;
  /**
   * What the spec is called in error messages (loadSpec() gives the file's path)
   * @default 'spec object'
   */
  source?: string;
}

// Validates a spec object and resolves paths against `baseDir` (default: the working directory);
// a relative code path with no file there is looked for in the working directory
export function resolveSpec(value: unknown, options: ResolveOptions = {}): ResolvedSpec {
  knownOptions('resolveSpec()', options, resolveOptionKeys);
  if (isResolvedSpec(value)) return applyOverrides(value, options);
  const source = options.source ?? 'spec object';
  const baseDir = options.baseDir ?? process.cwd();
  const spec = validateSpec(value, source);
  const launch = resolveExecType(spec.exec_type, baseDir);
  let code: CodeSource | null = null;
  let codePath: CodePathOrigin | undefined;
  const raw = spec.exec_info.code;
  if (typeof raw === 'string') code = { type: 'string', data: raw };
  else if (raw?.type === 'path') ({ code, codePath } = resolveCodePath(raw.data, options.baseDir));
  else if (raw !== undefined) code = raw;
  return applyOverrides(
    { spec, source, launch, code, handler: spec.exec_info.handler ?? 'main', setupHook: spec.exec_info.setup_hook ?? null, exitFromReturn: spec.exit_from_return ?? true, ...(codePath ? { codePath } : {}) },
    options,
  );
}

// A relative code path: in the spec's folder when the file is there, else in the working
// directory when it is there (multirunner's specs name their code from the repository root),
// else in the spec's folder, where the child's error will say it is missing
function resolveCodePath(given: string, specDir: string | undefined): { code: CodeSource; codePath?: CodePathOrigin } {
  if (path.isAbsolute(given)) return { code: { type: 'path', data: given } };
  const fromCwd = path.resolve(given);
  if (specDir === undefined) return { code: { type: 'path', data: fromCwd }, codePath: { given, base: 'cwd' } };
  const fromSpec = path.resolve(specDir, given);
  const base = existsSync(fromSpec) || !existsSync(fromCwd) ? 'spec' : 'cwd';
  return { code: { type: 'path', data: base === 'spec' ? fromSpec : fromCwd }, codePath: { given, base } };
}

function applyOverrides(spec: ResolvedSpec, overrides: SpecOverrides): ResolvedSpec {
  const out = { ...spec };
  if (overrides.exitFromReturn !== undefined) out.exitFromReturn = overrides.exitFromReturn;
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
