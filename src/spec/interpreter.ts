// Maps exec_type to the command that starts a child: interpreter, arguments and handler script
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuiltinExecType, CustomExecType } from './schema.js';

export const handlersDir = fileURLToPath(new URL('../../../handlers/', import.meta.url));
export const builtinHandlers = {
  python: path.join(handlersDir, 'python_handler.py'),
  node: path.join(handlersDir, 'node_handler.mjs'),
} as const;

// How to start one child, and how to explain where the command came from if it fails
export interface Launch {
  readonly execType: BuiltinExecType | 'custom';
  readonly command: string;
  readonly args: readonly string[];
  // e.g. 'python2 (from PATH; set POLYTASK_PYTHON2 to use another interpreter)'
  readonly description: string;
  readonly hint: string;
  // major version the handler must report (python2/python3 only)
  readonly expectMajor?: number;
}

const envNames: Record<BuiltinExecType, string> = {
  python2: 'POLYTASK_PYTHON2',
  python3: 'POLYTASK_PYTHON3',
  node: 'POLYTASK_NODE',
};

// Resolves exec_type; relative paths in a custom exec_type are relative to `baseDir`
export function resolveExecType(execType: BuiltinExecType | CustomExecType, baseDir: string, env = process.env): Launch {
  if (typeof execType === 'string') {
    const envName = envNames[execType];
    const fromEnv = env[envName];
    const fallback = execType === 'node' ? process.execPath : execType;
    const command = fromEnv !== undefined && fromEnv !== '' ? fromEnv : fallback;
    const origin = fromEnv ? `from ${envName}` : execType === 'node' ? 'the running Node' : 'from PATH';
    const handler = execType === 'node' ? builtinHandlers.node : builtinHandlers.python;
    return {
      execType,
      command,
      args: [handler],
      description: `${command} (${origin})`,
      hint: `set ${envName}=/path/to/${execType === 'node' ? 'node' : execType} or use exec_type: {executable: /path/to/interpreter, handler: ${execType === 'node' ? 'node' : 'python'}}`,
      ...(execType === 'node' ? {} : { expectMajor: execType === 'python2' ? 2 : 3 }),
    };
  }
  const command = execType.executable.includes('/') ? path.resolve(baseDir, execType.executable) : execType.executable;
  const handler = execType.handler === undefined ? undefined
    : execType.handler === 'python' || execType.handler === 'node' ? builtinHandlers[execType.handler]
      : path.resolve(baseDir, execType.handler);
  return {
    execType: 'custom',
    command,
    args: [...(execType.args ?? []), ...(handler === undefined ? [] : [handler])],
    description: `${command} (exec_type.executable)`,
    hint: 'check exec_type.executable and exec_type.handler in the spec',
  };
}
