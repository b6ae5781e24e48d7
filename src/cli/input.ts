// Reads JSON lines: one item per line that is not blank (only JSON whitespace: space, tab, CR),
// with its line number; a line that is not valid JSON, or not valid UTF-8, becomes an item
// carrying a ParseError instead of being dropped.
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { ParseError } from '../errors.js';
import { LineBlockSplitter } from '../protocol/lines.js';

export interface InputLine {
  // 1-based line number in the input
  line: number;
  // the line without its end-of-line characters (valid JSON unless `error` is set)
  text: string;
  error?: ParseError;
}

const newline = 0x0a;

// Yields the items of each chunk read as one array: one step of the iterator per chunk, not per
// line. The bytes are checked to be UTF-8 a block of whole lines at a time; only a block that is
// not is looked at line by line, to find the bad line and the offset of its first bad byte.
// `check`: each line is parsed to check it is JSON; without, only its UTF-8 is checked (for a pool
// whose children decode each item on its own and report a line that is not JSON)
export async function* readJsonLines(stream: Readable, check = true): AsyncGenerator<InputLine[], void, undefined> {
  const splitter = new LineBlockSplitter();
  const state = readState(check);
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const blocks = splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    const items = blocks.length === 1 ? blockItems(blocks[0]!, state) : blocks.flatMap((block) => blockItems(block, state));
    if (items.length > 0) yield items;
  }
  const rest = splitter.end();
  if (rest !== undefined) {
    const items = blockItems(rest, state);
    if (items.length > 0) yield items;
  }
}

export interface ReadState {
  // lines before this block
  lineNo: number;
  // bytes of the input before this block
  offset: number;
  // this block starts the input
  first: boolean;
  // lines are parsed to check them
  check: boolean;
}

export function readState(check: boolean): ReadState {
  return { lineNo: 0, offset: 0, first: true, check };
}

// The items of a block of whole lines (the last one ends with a newline, except at the end
// of the input)
export function blockItems(block: Buffer, state: ReadState): InputLine[] {
  let start = 0;
  if (state.first) {
    state.first = false;
    start = bomLength(block);
  }
  const items: InputLine[] = [];
  if (isUtf8(start === 0 ? block : block.subarray(start))) {
    const lines = block.toString('utf8', start).split('\n');
    // the last piece is what follows the last newline: empty, or the input's last line
    const last = lines.length - 1;
    for (let k = 0; k < last; k++) {
      const item = parseLine(lines[k]!, ++state.lineNo, state.check);
      if (item !== undefined) items.push(item);
    }
    if (lines[last] !== '') {
      const item = parseLine(lines[last]!, ++state.lineNo, state.check);
      if (item !== undefined) items.push(item);
    }
  } else {
    for (let from = start; from < block.length;) {
      const at = block.indexOf(newline, from);
      const to = at === -1 ? block.length : at;
      const line = block.subarray(from, to);
      const lineNo = ++state.lineNo;
      const bad = firstInvalidByte(line);
      const item = bad === -1
        ? parseLine(line.toString('utf8'), lineNo, state.check)
        : badLine(withoutCr(line.toString('utf8')), lineNo, `invalid UTF-8 at byte offset ${bad} of the line (${state.offset + from + bad} of the input)`);
      if (item !== undefined) items.push(item);
      from = to + 1;
    }
  }
  state.offset += block.length;
  return items;
}

function parseLine(raw: string, line: number, check: boolean): InputLine | undefined {
  const text = withoutCr(raw);
  if (isBlank(text)) return undefined;
  if (!check) return { line, text };
  return checkLine(text, line);
}

// The item of a line, or one carrying a ParseError when the line is not JSON
export function checkLine(text: string, line: number): InputLine {
  try {
    JSON.parse(text);
    return { line, text };
  } catch (error) {
    return badLine(text, line, (error as Error).message);
  }
}

// The length of the UTF-8 byte order mark that starts the input, if any: it marks the file and
// is not part of the first item
export function bomLength(first: Uint8Array): number {
  return first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf ? 3 : 0;
}

export function withoutCr(raw: string): string {
  return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
}

function badLine(text: string, line: number, detail: string): InputLine {
  return { line, text, error: new ParseError(line, detail) };
}

// Whether a line holds only JSON whitespace (space, tab, CR): any other character, even one
// that String.prototype.trim() removes (U+00A0, U+2028, U+3000, \v, \f, a BOM), makes it an item
export function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

// The offset of the first byte that does not start or continue a valid UTF-8 sequence
// (overlong forms, surrogates and code points past U+10FFFF included), or -1
export function firstInvalidByte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? low : 0x80) || c > (k === 1 ? high : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}
