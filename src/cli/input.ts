// Reads JSON lines: one item per non-blank line, with its line number; a line that is not
// valid JSON becomes an item carrying a ParseError instead of being dropped.
import type { Readable } from 'node:stream';
import { ParseError } from '../errors.js';

export interface InputLine {
  // 1-based line number in the input
  line: number;
  // the line without its end-of-line characters (valid JSON unless `error` is set)
  text: string;
  error?: ParseError;
}

// Yields the items of each chunk read as one array: one step of the iterator per chunk, not per line
export async function* readJsonLines(stream: Readable): AsyncGenerator<InputLine[], void, undefined> {
  stream.setEncoding('utf8');
  let tail = '';
  // the pieces of a line longer than a chunk: joined once its end comes, not at every chunk
  let long: string[] = [];
  let lineNo = 0;
  let first = true;
  for await (const chunk of stream as AsyncIterable<string>) {
    if (!chunk.includes('\n')) {
      long.push(chunk);
      continue;
    }
    let text = long.length > 0 ? tail + long.join('') + chunk : tail + chunk;
    long = [];
    if (first) {
      // a UTF-8 byte order mark is not part of the first item
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const lines = text.split('\n');
    tail = lines.pop() ?? '';
    const items: InputLine[] = [];
    for (const raw of lines) {
      lineNo++;
      const item = parseLine(raw, lineNo);
      if (item !== undefined) items.push(item);
    }
    if (items.length > 0) yield items;
  }
  tail += long.join('');
  if (first && tail.charCodeAt(0) === 0xfeff) tail = tail.slice(1);
  if (tail !== '') {
    const item = parseLine(tail, lineNo + 1);
    if (item !== undefined) yield [item];
  }
}

function parseLine(raw: string, line: number): InputLine | undefined {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (text.trim() === '') return undefined;
  try {
    JSON.parse(text);
    return { line, text };
  } catch (error) {
    return { line, text, error: new ParseError(line, (error as Error).message) };
  }
}
