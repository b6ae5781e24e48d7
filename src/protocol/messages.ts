// The messages of docs/protocol.md, as types. One JSON object per line in each direction.
import type { ErrorInfo } from '../errors.js';
import type { CodeSource } from '../spec/schema.js';

// parent -> child, first message
export interface InitMessage {
  type: 'init';
  worker_id: number;
  code: CodeSource | null;
  handler: string;
  setup_hook: string | null;
  // false: do not capture the items' output, let it reach fd 1/2 (debugging, default true)
  capture?: boolean;
  // the per-item timeout in ms, when the parent times items: results must then leave promptly
  timeout_ms?: number;
}

// child -> parent, answer to init
export interface ReadyMessage {
  type: 'ready';
  pid: number;
  language: string;
  version: string;
  // true when the handler runs one call at a time and writes each result before it starts
  // the next call: the parent can then blame the oldest unanswered call when the child dies
  one_at_a_time?: boolean;
  stdout?: string;
  stderr?: string;
}

export interface InitErrorMessage {
  type: 'init_error';
  error: ErrorInfo;
  stdout?: string;
  stderr?: string;
}

// child -> parent, answer to one call
export interface ResultMessage {
  type: 'result';
  id: number;
  exit: number;
  value?: unknown;
  error?: ErrorInfo;
  stdout: string;
  stderr: string;
}

// child -> parent, optional: the item `id` is making the child exit (Node's process.exit())
export interface ExitingMessage {
  type: 'exiting';
  id: number;
}

export type ChildMessage = ReadyMessage | InitErrorMessage | ResultMessage | ExitingMessage;

// The call message is built by string concatenation so the item's JSON is never encoded twice
export function callLine(id: number, attempt: number, json: string): string {
  return `{"type":"call","id":${id},"attempt":${attempt},"data":${json}}\n`;
}

export function initLine(message: Omit<InitMessage, 'type'>): string {
  return JSON.stringify({ type: 'init', ...message }) + '\n';
}
