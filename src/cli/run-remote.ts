// `polytask run --redis` when the producer has nothing to do for an item on its own (no order to
// keep, no timeout, no retry, no log to match, no line checked first): the input lines go out
// in blocks, a job each, held in flight as a few bytes a line (remote/block.ts) instead of an
// item's objects, and each result becomes its output line as it comes (output lines that come
// whole from a worker's children, numbered by input line, go on as they came). The input is read in
// blocks of whole lines; one whose lines are all items as they stand (the usual case) goes on
// as one text, without an object per line; another goes line by line as in a run item by item
// (blockItems): a blank line is no item, a line that is not UTF-8 gets its ParseError here. One
// that is not JSON gets it from its worker's child, worded here as for a line checked first.
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import type { RawResult } from '../pool/items.js';
import { exitCodes } from '../protocol/exit-codes.js';
import { LineBlockSplitter } from '../protocol/lines.js';
import { joinLines, type BlockLines, type BlockOwner } from '../remote/block.js';
import type { RemoteExecutor } from '../remote/executor.js';
import { maxBytes } from '../remote/sender.js';
import { blockItems, bomLength, readState, type InputLine, type ReadState } from './input.js';
import { badLineResult, ResultBytes, undecoded } from './result-line.js';
import { abortError, orAbort, type LinesSink } from './run-lines.js';

export async function runRemoteLines(pool: RemoteExecutor, input: Readable, sink: LinesSink, signal: AbortSignal): Promise<void> {
  // lines sent and not answered; the reading waits while a block would pass the window: twice
  // the window of a run item by item, as lines in blocks cost little to hold (200,000 trivial
  // items, one worker -p 2: 1.42-1.58 s against 1.53-1.63 s with the same window)
  let inFlight = 0;
  const limit = () => 4 * pool.capacity;
  let writing: Promise<void> = Promise.resolve();
  // output lines not written yet, how many of them failed, how many of those a returned integer
  const out = new ResultBytes();
  // and output lines that came whole from the workers' children
  let whole: Buffer[] = [];
  let count = 0;
  let failed = 0;
  let returned = 0;
  const add = (item: InputLine, result: RawResult) => {
    out.add(item, result);
    count++;
    if (result.exit !== 0) failed++;
    if (result.fromReturn === true) returned++;
  };
  const write = () => {
    if (count === 0) return;
    const bytes = out.take();
    if (whole.length > 0) bytes.push(...whole);
    whole = [];
    // once the run is stopped, what the executor answers as it closes is not written
    if (!signal.aborted) writing = sink(bytes, count, failed, returned);
    count = failed = returned = 0;
  };
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const owner: BlockOwner = {
    answered(line, text, raw) {
      inFlight--;
      const item = { line, text };
      add(item, raw.exit === exitCodes.dataError ? undecoded(item, raw) : raw);
    },
    answeredOk(line, text, attempts, rest) {
      inFlight--;
      out.addOk(line, text, attempts, rest);
      count++;
    },
    answeredLines(bytes, lines, linesFailed, linesReturned) {
      inFlight -= lines;
      whole.push(bytes);
      count += lines;
      failed += linesFailed;
      returned += linesReturned;
    },
    settled() {
      write();
      wakeUp();
    },
  };
  // waits until at most `until` lines are in flight and the output takes more; throws once the
  // run is aborted
  const room = async (until: number) => {
    while (!signal.aborted && inFlight > until) await new Promise<void>((resolve) => (wake = resolve));
    await orAbort(writing, signal);
    if (signal.aborted) throw abortError(signal);
  };
  // The lines of one read, in blocks of about the same number of lines: none over the
  // executor's block size, about maxBytes at most unless the lines differ much in length, and
  // no small block left over at the end of each read. `take`: the lines from..to as a block.
  // The block size grows while this waits for room when the first item times come (from 8
  // lines to 1,000 for trivial items): what is left of the read is cut again for each block,
  // else the rest of the first read went as some 250 jobs of 8 lines.
  const submit = async (lines: number, bytes: number, take: (from: number, to: number) => BlockLines) => {
    const next = (from: number) => {
      const left = lines - from;
      return Math.ceil(left / Math.min(left, Math.max(Math.ceil(left / pool.blockSize), Math.ceil((bytes * left) / lines / maxBytes))));
    };
    for (let from = 0; from < lines;) {
      await room(Math.max(0, limit() - next(from)));
      const to = from + next(from);
      inFlight += to - from;
      pool.submitLines(take(from, to), owner);
      from = to;
    }
  };
  // A block of whole lines read: sent as it is when every line is an item as it stands, else
  // line by line (blockItems), where a line that is not UTF-8 gets its ParseError here
  const state = readState(false);
  const read = async (bytes: Buffer) => {
    const plain = plainLines(bytes, state);
    if (plain !== undefined) {
      await submit(plain.count, bytes.length, (from, to) => linesOf(plain, from, to));
      return;
    }
    const texts: string[] = [];
    const lines: number[] = [];
    let size = 0;
    for (const item of blockItems(bytes, state)) {
      if (item.error !== undefined) {
        add(item, badLineResult(item.error));
        continue;
      }
      texts.push(item.text);
      lines.push(item.line);
      size += item.text.length + 1;
    }
    write();
    await submit(texts.length, size, (from, to) => joinLines(texts.slice(from, to), lines.slice(from, to)));
  };

  signal.addEventListener('abort', wakeUp, { once: true });
  const splitter = new LineBlockSplitter();
  const chunks = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  let inputDone = false;
  try {
    for (;;) {
      // an input still waiting for its next chunk (stdin, say) must not hold a stop up
      const next = await orAbort(chunks.next(), signal);
      if (next.done === true) break;
      // the line begun in the chunk before and the lines after it: one block, not a job of one line
      const blocks = splitter.push(typeof next.value === 'string' ? Buffer.from(next.value) : next.value);
      if (blocks.length > 0) await read(blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks));
    }
    const rest = splitter.end();
    if (rest !== undefined) await read(rest);
    inputDone = true;
    await room(0);
  } finally {
    signal.removeEventListener('abort', wakeUp);
    if (!inputDone) void Promise.resolve(chunks.return?.()).catch(() => {});
  }
}

// The lines of a block read as one text, when each is an item as it stands (as blockItems would
// make them): valid UTF-8, no CR, none blank. A line that starts with JSON whitespace may be
// blank: such a block, or one with a CR, goes line by line. `state` moves on only for one taken.
interface PlainLines {
  text: string;
  // where each line starts, and one past the newline of the last (BlockLines.starts)
  starts: Int32Array;
  count: number;
  firstLine: number;
}

const newline = 0x0a;

function plainLines(bytes: Buffer, state: ReadState): PlainLines | undefined {
  const start = state.first ? bomLength(bytes) : 0;
  if (!isUtf8(start === 0 ? bytes : bytes.subarray(start))) return undefined;
  const text = bytes.toString('utf8', start);
  if (text.length === 0 || text.includes('\r')) return undefined;
  let count = text.charCodeAt(text.length - 1) === newline ? 0 : 1;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  const starts = new Int32Array(count + 1);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const c = text.charCodeAt(at);
    if (c === newline || c === 0x20 || c === 0x09) return undefined;
    starts[i] = at;
    const end = text.indexOf('\n', at);
    at = end === -1 ? text.length + 1 : end + 1;
  }
  starts[count] = at;
  state.first = false;
  state.offset += bytes.length;
  const firstLine = state.lineNo + 1;
  state.lineNo += count;
  return { text, starts, count, firstLine };
}

// The lines from..to of a block read
function linesOf(plain: PlainLines, from: number, to: number): BlockLines {
  const base = plain.starts[from]!;
  const starts = new Int32Array(to - from + 1);
  for (let i = from; i <= to; i++) starts[i - from] = plain.starts[i]! - base;
  return { text: plain.text.slice(base, plain.starts[to]! - 1), starts, lines: plain.firstLine + from };
}
