// `polytask run --redis` when the producer has nothing to do for an item on its own (no order to
// keep, no timeout, no retry, no log to match, no line checked first): the input lines go out
// in blocks, a job each, held in flight as a few bytes a line (remote/blocks.ts) instead of an
// item's objects, and each result becomes its output line as it comes. The lines are read as
// for a run item by item (readJsonLines): a blank line is no item, a line that is not UTF-8
// gets its ParseError here, and one that is not JSON gets it from its worker's child, worded
// here as for a line checked first.
import type { RawResult } from '../pool/items.js';
import { exitCodes } from '../protocol/exit-codes.js';
import type { BlockOwner } from '../remote/blocks.js';
import type { RemoteExecutor } from '../remote/executor.js';
import { maxBytes } from '../remote/sender.js';
import type { InputLine } from './input.js';
import { badLineResult, ResultBytes, undecoded } from './result-line.js';
import { abortError, orAbort, type LinesSink } from './run-lines.js';

export async function runRemoteLines(pool: RemoteExecutor, input: AsyncIterable<InputLine[]>, sink: LinesSink, signal: AbortSignal): Promise<void> {
  // lines sent and not answered; the reading waits while a block would pass the window: twice
  // the window of a run item by item, as lines in blocks cost little to hold (200,000 trivial
  // items, one worker -p 2: 1.42-1.58 s against 1.53-1.63 s with the same window)
  let inFlight = 0;
  const limit = () => 4 * pool.capacity;
  let writing: Promise<void> = Promise.resolve();
  // output lines not written yet, how many of them failed, how many of those a returned integer
  const out = new ResultBytes();
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
  // no small block left over at the end of each read
  const submit = async (texts: string[], lines: number[], bytes: number) => {
    const blocks = Math.min(texts.length, Math.max(Math.ceil(texts.length / pool.blockSize), Math.ceil(bytes / maxBytes)));
    for (let k = 0; k < blocks; k++) {
      const from = Math.floor((k * texts.length) / blocks);
      const to = Math.floor(((k + 1) * texts.length) / blocks);
      await room(Math.max(0, limit() - (to - from)));
      inFlight += to - from;
      pool.submitLines(texts.slice(from, to), lines.slice(from, to), owner);
    }
  };

  signal.addEventListener('abort', wakeUp, { once: true });
  const chunks = input[Symbol.asyncIterator]();
  let inputDone = false;
  try {
    for (;;) {
      // an input still waiting for its next chunk (stdin, say) must not hold a stop up
      const next = await orAbort(chunks.next(), signal);
      if (next.done === true) break;
      const texts: string[] = [];
      const lines: number[] = [];
      let bytes = 0;
      for (const item of next.value) {
        if (item.error !== undefined) {
          add(item, badLineResult(item.error));
          continue;
        }
        texts.push(item.text);
        lines.push(item.line);
        bytes += item.text.length + 1;
      }
      write();
      await submit(texts, lines, bytes);
    }
    inputDone = true;
    await room(0);
  } finally {
    signal.removeEventListener('abort', wakeUp);
    if (!inputDone) void Promise.resolve(chunks.return?.()).catch(() => {});
  }
}
