// Line delivery shared by Subprocess and Instance: every line of a stream, once, including
// the last one without a newline, and never an empty end-of-stream call.
import type { Readable } from 'node:stream';
import { LineSplitter } from '../protocol/lines.js';

// Drops the '\r' of a '\r\n' line end
function trimmed(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

// Calls `onLine` for each line of `stream` (without its line end); resolves when the stream has
// ended or was destroyed, after the last line
export function followLines(stream: Readable, onLine: (line: string) => void, onChunk?: (chunk: string) => void): Promise<void> {
  const splitter = new LineSplitter();
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    onChunk?.(chunk);
    for (const line of splitter.push(chunk)) onLine(trimmed(line));
  });
  return new Promise((resolve) => {
    stream.once('close', () => {
      const tail = splitter.end();
      if (tail !== '') onLine(trimmed(tail));
      resolve();
    });
  });
}
