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
  // arguments every call's handler gets as context.args (default [])
  args?: readonly unknown[];
  // the highest protocol version the parent speaks (absent: 1)
  protocol?: number;
  // version 3: false when a returned integer is only the value (the spec's exit_from_return),
  // for the output lines a child writes for a `lines` block (absent: true)
  exit_from_return?: boolean;
  // version 4: the child's fd open on `polytask run`'s results (a regular file or /dev/null),
  // where it writes the output lines of `lines` blocks itself (absent: they go on fd 4)
  output_fd?: number;
}

// The protocol versions (docs/protocol.md): 2 adds `calls` blocks, 3 `lines` blocks, 4 output
// lines written straight to init's `output_fd`
export const protocolVersion = 4;

// child -> parent, answer to init
export interface ReadyMessage {
  type: 'ready';
  pid: number;
  language: string;
  version: string;
  // true when the handler runs one call at a time and writes each result before it starts
  // the next call: the parent can then blame the oldest unanswered call when the child dies
  one_at_a_time?: boolean;
  // the version the child speaks, at most init's (absent: 1)
  protocol?: number;
  stdout?: string;
  stderr?: string;
}

export interface InitErrorMessage {
  type: 'init_error';
  error: ErrorInfo;
  stdout?: string;
  stderr?: string;
}

// Whether a child takes `calls` blocks (version 2 or later): its `ready` said so
export function takesBlocks(ready: ReadyMessage | undefined): boolean {
  return (ready?.protocol ?? 1) >= 2;
}

// Whether a child takes `lines` blocks (version 3): its `ready` said so
export function takesLines(ready: ReadyMessage | undefined): boolean {
  return (ready?.protocol ?? 1) >= 3;
}

// child -> parent (version 3): the next `count` lines of the `lines` block `id` are answered;
// `out` output lines follow this head; `written` (version 4) more went to init's `output_fd`
// before it. `failed` of them have a non-zero exit, `returned` of those because the handler
// returned that integer; `bad` lists the lines (0-based in the block) that are not JSON, which
// have no output line: the parent writes theirs.
export interface LinesMessage {
  type: 'lines';
  id: number;
  count: number;
  out: number;
  written?: number;
  failed?: number;
  returned?: number;
  bad?: number[];
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

export type ChildMessage = ReadyMessage | InitErrorMessage | ResultMessage | ExitingMessage | LinesMessage;

// The call message is built by string concatenation so the item's JSON is never encoded twice
export function callLine(id: number, attempt: number, json: string): string {
  return `{"type":"call","id":${decimal(id)},"attempt":${attempt},"data":${json}}\n`;
}

// The head of a `calls` block (version 2): the `count` lines after it are the items' JSON texts,
// with the ids id, id + 1, ... and one attempt number
export function callsHead(id: number, attempt: number, count: number): string {
  return `{"type":"calls","id":${decimal(id)},"attempt":${attempt},"count":${count}}\n`;
}

// The head of a `lines` block (version 3): the `count` lines after it are input lines as they
// were read (valid UTF-8, maybe blank, maybe ending in CR), numbered from `line`; the child
// writes their output lines itself (docs/protocol.md)
export function linesHead(id: number, attempt: number, line: number, count: number): string {
  return `{"type":"lines","id":${decimal(id)},"attempt":${attempt},"line":${decimal(line)},"count":${count}}\n`;
}

// An integer in decimal, for a number that is new with each item (a call id, a line number).
// `${n}` goes through V8's number-to-string cache, which holds thousands of recent strings
// through young-generation GCs: most such strings then reached the old generation (in the
// CLI, 24 of the 30 MB promoted per million items), growing the heap until a full GC.
// Joining the digits in threes from a table makes a new string each time, without that cache
// (JSON.stringify would too, at twice the cost).
const upTo999 = Array.from({ length: 1000 }, (_, i) => String(i));
const threeDigits = upTo999.map((digits) => digits.padStart(3, '0'));
export function decimal(n: number): string {
  if (!(Number.isSafeInteger(n) && n >= 0)) return String(n);
  if (n < 1000) return upTo999[n]!;
  let text = threeDigits[n % 1000]!;
  for (n = Math.floor(n / 1000); n >= 1000; n = Math.floor(n / 1000)) text = threeDigits[n % 1000]! + text;
  return upTo999[n]! + text;
}

const resultPrefix = '{"type":"result","id":';
const exitField = ',"exit":';

// Reads the start every bundled handler gives a result, `{"type":"result","id":<id>,"exit":<exit>,"`,
// without a full parse and without allocating: fills `head` and returns true, or returns false
// for any other line (which is then parsed as JSON)
export function readResultHead(line: string, head: { id: number; exit: number; restAt: number }): boolean {
  if (!line.startsWith(resultPrefix)) return false;
  let at = resultPrefix.length;
  let id = 0;
  const idStart = at;
  for (let c = line.charCodeAt(at); c >= 48 && c <= 57; c = line.charCodeAt(++at)) id = id * 10 + (c - 48);
  if (at === idStart || at - idStart > 15 || !line.startsWith(exitField, at)) return false;
  at += exitField.length;
  const negative = line.charCodeAt(at) === 45; // -
  if (negative) at++;
  let exit = 0;
  const exitStart = at;
  for (let c = line.charCodeAt(at); c >= 48 && c <= 57; c = line.charCodeAt(++at)) exit = exit * 10 + (c - 48);
  if (at === exitStart || at - exitStart > 15 || line.charCodeAt(at) !== 44 || line.charCodeAt(at + 1) !== 34) return false; // ,"
  head.id = id;
  head.exit = negative ? -exit : exit;
  head.restAt = at + 1;
  return true;
}

export function initLine(message: Omit<InitMessage, 'type'>): string {
  return JSON.stringify({ type: 'init', ...message }) + '\n';
}
