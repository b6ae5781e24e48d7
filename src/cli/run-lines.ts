// `polytask run` over children that write their own output lines (protocol version 3, the Node
// and Python handlers): the input goes to them as it was read, a block of whole lines at a time,
// and their output lines come back in blocks that go out as they came. The parent looks at no
// item: it checks each block is UTF-8 and counts its lines. What it still does for an item on its
// own: a line that is not JSON (the child names it; its result is worded here, as for a line
// checked first), the lines of a block whose child died (they run again, one call each), and a
// block that is not valid UTF-8 (its lines go one call each, the bad one gets its ParseError).
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { AbortError } from '../errors.js';
import { exitCodes } from '../protocol/exit-codes.js';
import { newCall, type Call, type LinesChunk, type LinesOwner } from '../pool/process/call.js';
import type { ProcessPool } from '../pool/process/pool.js';
import type { RawResult } from '../pool/items.js';
import { LineBlockSplitter } from '../protocol/lines.js';
import { blockItems, bomLength, checkLine, isBlank, readState, withoutCr, type InputLine } from './input.js';
import { badLineResult, resultLine, undecoded } from './result-line.js';

// Takes output lines for `count` items, `failed` of them with a non-zero exit, `returned` of
// those a returned integer (no text: children wrote them to the output themselves); resolves
// once the output can take more
export type LinesSink = (text: string | readonly Buffer[], count: number, failed: number, returned: number) => Promise<void>;

const newline = 0x0a;

export async function runLines(pool: ProcessPool, input: Readable, sink: LinesSink, signal: AbortSignal): Promise<void> {
  const state = readState(false);
  const splitter = new LineBlockSplitter();
  // lines sent and not answered; the reading waits while there are more than this
  let inFlight = 0;
  const limit = () => 2 * pool.linesCapacity;
  let writing: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  // `lines` lines are answered, with these output lines
  const settled = (lines: number, text: string | readonly Buffer[], count: number, failed: number, returned: number) => {
    inFlight -= lines;
    // once the run is stopped, what the pool answers as it closes is not written (as for a run
    // item by item). `count` lines and no text: children wrote them to the results themselves,
    // where they are even after a stop, so they are counted.
    if (count > 0 && (text.length === 0 || !signal.aborted)) {
      const written = sink(text, count, failed, returned);
      if (text.length > 0) writing = written;
    }
    if (inFlight < limit() || inFlight === 0) wakeUp();
  };

  // one line as a call of its own
  const single = (item: InputLine): ((raw: RawResult) => void) => (raw) => {
    const result = raw.exit === exitCodes.dataError ? undecoded(item, raw) : raw;
    settled(1, resultLine(item, result), 1, result.exit === 0 ? 0 : 1, result.fromReturn === true ? 1 : 0);
  };

  const owner: LinesOwner = {
    answered(block: Call, chunk: LinesChunk): void {
      if (signal.aborted) {
        // none of this is written now, but output lines a child wrote itself (it then sends none:
        // `out` is empty) are in the results
        const written = chunk.out.length === 0 ? chunk.outLines : 0;
        settled(chunk.count, '', written, written === 0 ? 0 : chunk.failed - chunk.bad.length, written === 0 ? 0 : chunk.returned);
        return;
      }
      let bad = '';
      for (const place of chunk.bad) {
        const item = lineOf(block, place);
        const checked = checkLine(item.text, item.line);
        // JSON its child could not decode all the same (another JavaScript engine)
        bad += resultLine(checked, checked.error === undefined ? notDecoded(item.line) : badLineResult(checked.error));
      }
      const text = bad === '' ? chunk.out : [...chunk.out, Buffer.from(bad)];
      settled(chunk.count, text, chunk.outLines + chunk.bad.length, chunk.failed, chunk.returned);
    },
    split(block: Call, from: number): Call[] {
      const calls: Call[] = [];
      const { bytes, line, count } = block.lines!;
      let at = 0;
      for (let place = 0; place < count; place++) {
        const end = bytes.indexOf(newline, at);
        if (place >= from) {
          const text = withoutCr(bytes.toString('utf8', at, end));
          if (isBlank(text)) {
            settled(1, '', 0, 0, 0);
          } else {
            const item = { line: line + place, text };
            const call = newCall(block.id + place, text, undefined, single(item), undefined, undefined);
            call.attempt = block.attempt;
            calls.push(call);
          }
        }
        at = end + 1;
      }
      return calls;
    },
  };

  if (signal.aborted) throw abortError(signal);
  // waits until at most `until` lines are in flight and the output takes more; throws once the
  // run is aborted
  const room = async (until: number) => {
    while (!signal.aborted && inFlight > until) await new Promise<void>((resolve) => (wake = resolve));
    // a stop must not wait for an output nobody reads
    await orAbort(writing, signal);
    if (signal.aborted) throw abortError(signal);
  };

  // Sends a block of whole lines read, as far as the window allows at a time: the pool holds no
  // more lines than that, even while the output is not taken (a stdout nobody reads)
  const submit = async (bytes: Buffer) => {
    const start = state.first ? bomLength(bytes) : 0;
    if (!isUtf8(start === 0 ? bytes : bytes.subarray(start))) {
      // found line by line, with the offset of the bad byte
      for (const item of blockItems(bytes, state)) {
        if (item.error !== undefined) {
          writing = sink(resultLine(item, badLineResult(item.error)), 1, 1, 0);
          continue;
        }
        await room(limit());
        inFlight++;
        pool.submitRaw(item.text, single(item));
      }
      return;
    }
    state.first = false;
    state.offset += bytes.length;
    let lines = start === 0 ? bytes : bytes.subarray(start);
    if (lines.length === 0) return;
    // the input's last line, without its newline
    if (lines[lines.length - 1] !== newline) lines = Buffer.concat([lines, Buffer.from('\n')]);
    let count = countLines(lines);
    let line = state.lineNo + 1;
    state.lineNo += count;
    while (count > 0) {
      // the window half empty, then filled again: blocks of many lines, not of a few
      await room(limit() / 2);
      // (the limit moves with the children's depth: at least one line, whatever it is now)
      const taken = Math.min(count, Math.max(1, limit() - inFlight));
      let end = lines.length;
      if (taken < count) {
        end = 0;
        for (let k = 0; k < taken; k++) end = lines.indexOf(newline, end) + 1;
      }
      inFlight += taken;
      pool.submitLines(lines.subarray(0, end), line, taken, owner);
      lines = lines.subarray(end);
      line += taken;
      count -= taken;
    }
  };

  signal.addEventListener('abort', wakeUp, { once: true });
  const chunks = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  let inputDone = false;
  try {
    for (;;) {
      // an input still waiting for its next chunk (stdin, say) must not hold a stop up
      const next = await orAbort(chunks.next(), signal);
      if (next.done === true) break;
      for (const block of splitter.push(typeof next.value === 'string' ? Buffer.from(next.value) : next.value)) await submit(block);
    }
    inputDone = true;
    const rest = splitter.end();
    if (rest !== undefined) await submit(rest);
    await room(0);
  } finally {
    signal.removeEventListener('abort', wakeUp);
    if (!inputDone) void Promise.resolve(chunks.return?.()).catch(() => {});
  }
}

export function abortError(signal: AbortSignal): AbortError {
  return new AbortError('the run was aborted', { cause: signal.reason });
}

// `promise`, or an AbortError once `signal` aborts: a stop must not wait for an input or an
// output that is stuck. Each wait takes its listener off the signal when it ends (a race against
// one promise that never settles keeps every value raced against it: here, all the input read)
export function orAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function countLines(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(newline); at !== -1; at = bytes.indexOf(newline, at + 1)) count++;
  return count;
}

// The line at `place` in a block
function lineOf(block: Call, place: number): { line: number; text: string } {
  const { bytes, line } = block.lines!;
  let at = 0;
  for (let k = 0; k < place; k++) at = bytes.indexOf(newline, at) + 1;
  return { line: line + place, text: withoutCr(bytes.toString('utf8', at, bytes.indexOf(newline, at))) };
}

function notDecoded(line: number): RawResult {
  const fields = { error: { name: 'ParseError', message: `line ${line}: its child could not decode the item` }, stdout: '', stderr: '' };
  return { exit: exitCodes.dataError, rest: JSON.stringify(fields).slice(1), attempts: 0 };
}
