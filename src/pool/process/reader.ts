// Reads what a child writes on fd 4. The output lines after a `lines` head (version 3) go on as
// bytes, never decoded: `polytask run` copies them out. The other messages are decoded a run of
// lines at a time. What is read of a line, or of a head's lines, is kept in pieces and joined once
// whole, not at every read (a 50 MB line comes in 800 of them).
import type { LinesMessage } from '../../protocol/messages.js';

export interface ReaderEvents {
  // a line that is not part of a `lines` answer (a result, ready, ...), without its '\n'
  line(text: string): void;
  // a `lines` head and the output lines after it, in the pieces they were read in
  lines(head: LinesMessage, out: Buffer[]): void;
  // the child broke the protocol: nothing more is read from it
  broken(what: string): void;
}

const newline = 0x0a;
const linesPrefix = Buffer.from('{"type":"lines",');
const nextLinesHead = Buffer.from('\n{"type":"lines",');

export class ChildReader {
  readonly #events: ReaderEvents;
  // the pieces of a line not ended yet
  #partial: Buffer[] = [];
  // a `lines` head whose output lines have not all come
  #body: { head: LinesMessage; pieces: Buffer[]; left: number } | undefined;
  #reading = true;

  constructor(events: ReaderEvents) {
    this.#events = events;
  }

  // Stops reading: the child broke the protocol (`what` says how)
  stop(what: string): void {
    if (!this.#reading) return;
    this.#reading = false;
    this.#events.broken(what);
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (this.#reading && at < chunk.length) {
      const body = this.#body;
      if (body !== undefined) {
        let scanned = at;
        let left = body.left;
        for (; left > 0; left--) {
          const end = chunk.indexOf(newline, scanned);
          if (end === -1) break;
          scanned = end + 1;
        }
        body.left = left;
        if (left > 0) {
          body.pieces.push(chunk.subarray(at));
          return;
        }
        body.pieces.push(chunk.subarray(at, scanned));
        at = scanned;
        this.#body = undefined;
        this.#events.lines(body.head, body.pieces);
        continue;
      }
      const end = chunk.indexOf(newline, at);
      if (end === -1) {
        this.#partial.push(chunk.subarray(at));
        return;
      }
      if (this.#partial.length > 0) {
        // the end of a line begun in earlier reads
        this.#partial.push(chunk.subarray(at, end));
        const line = Buffer.concat(this.#partial);
        this.#partial = [];
        at = end + 1;
        if (isLinesHead(line, 0, line.length)) this.#open(line.toString('utf8'));
        else this.#events.line(line.toString('utf8'));
        continue;
      }
      if (isLinesHead(chunk, at, end)) {
        this.#open(chunk.toString('utf8', at, end));
        at = end + 1;
        continue;
      }
      // the other lines up to the next `lines` head (or the last whole line), decoded at once
      const next = chunk.indexOf(nextLinesHead, at);
      const stop = next === -1 ? chunk.lastIndexOf(newline) + 1 : next + 1;
      const text = chunk.toString('utf8', at, stop);
      at = stop;
      let from = 0;
      for (let to = text.indexOf('\n'); to !== -1 && this.#reading; to = text.indexOf('\n', from)) {
        this.#events.line(text.slice(from, to));
        from = to + 1;
      }
    }
  }

  // A `lines` head: its output lines follow (none: the answer is whole already)
  #open(text: string): void {
    const head = readLinesHead(text);
    if (head === undefined) this.stop(`a lines message that is not one: ${text}`);
    else if (head.out === 0) this.#events.lines(head, []);
    else this.#body = { head, pieces: [], left: head.out };
  }
}

// Whether bytes[from, end) is the head of a child's `lines` answer
function isLinesHead(bytes: Buffer, from: number, end: number): boolean {
  return end - from > linesPrefix.length && bytes.compare(linesPrefix, 0, linesPrefix.length, from, from + linesPrefix.length) === 0;
}

// The head of a `lines` answer, or undefined when it is not one
function readLinesHead(text: string): LinesMessage | undefined {
  try {
    const head = JSON.parse(text) as LinesMessage;
    const whole = (n: unknown, least: number) => Number.isSafeInteger(n) && (n as number) >= least;
    return whole(head.id, 0) && whole(head.count, 1) && whole(head.out, 0) && (head.written === undefined || whole(head.written, 0)) ? head : undefined;
  } catch {
    return undefined;
  }
}
