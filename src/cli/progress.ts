// The live progress line of `polytask run` on stderr: done/total, items/s, failures, ETA.
// log-update redraws the line in place (and clears it around the children's own stderr
// output); it is redrawn on a timer, at most 10 times a second, never per item.
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
// log-update (and its fifteen modules) is loaded only when the line is shown: a run without it
// starts some 30 ms sooner
import type { createLogUpdate } from 'log-update';
import { ProgressMeter, type Progress } from '../job/progress.js';

export interface CliProgressOptions {
  // --progress (true), --no-progress (false), or neither: on when stderr is a terminal and
  // the results do not go to it too (lines written below the progress line would be torn)
  force: boolean | undefined;
  stderr: Writable;
  // where the results go: stdout, or undefined for an -o file
  results: Writable | undefined;
  // the -d file, whose lines are counted in the background for the total
  dataFile: string | undefined;
}

export class CliProgress {
  readonly meter: ProgressMeter;
  readonly #stderr: Writable;
  readonly #line: ReturnType<typeof createLogUpdate>;
  readonly #counting: AbortController = new AbortController();
  #stopped = false;

  // A progress line, or undefined when it is off
  static async start(options: CliProgressOptions): Promise<CliProgress | undefined> {
    const isTTY = (stream: Writable | undefined) => (stream as Partial<NodeJS.WriteStream> | undefined)?.isTTY === true;
    const on = options.force ?? (isTTY(options.stderr) && !isTTY(options.results));
    if (!on) return undefined;
    const { createLogUpdate: create } = await import('log-update');
    return new CliProgress(options, create);
  }

  private constructor(options: CliProgressOptions, create: typeof createLogUpdate) {
    this.#stderr = options.stderr;
    // showCursor: the cursor is never hidden, so nothing has to be restored on a signal
    this.#line = create(options.stderr as NodeJS.WriteStream, { showCursor: true });
    this.meter = new ProgressMeter((p) => this.#line(formatProgress(p)), { intervalMs: 100 }).start();
    if (options.dataFile !== undefined) {
      countItems(options.dataFile, this.#counting.signal).then((total) => (this.meter.total = total), () => {});
    }
  }

  // Writes the children's output to stderr above the line; the line comes back at the next redraw
  write(chunk: Buffer | string): void {
    if (!this.#stopped) this.#line.clear();
    this.#stderr.write(chunk);
  }

  // Draws the last counts and leaves them on the screen
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#counting.abort();
    this.meter.stop();
    this.#line.done();
  }
}

export function formatProgress(p: Progress): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const parts = [p.total === undefined ? `${n(p.done)} done` : `${n(p.done)}/${n(p.total)} (${p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100)}%)`];
  if (p.skipped > 0) parts.push(`${n(p.skipped)} resumed`);
  parts.push(`${n(Math.round(p.itemsPerSecond))} items/s`);
  parts.push(`${n(p.failed)} failed`);
  if (p.etaSeconds !== undefined) parts.push(`ETA ${duration(p.etaSeconds)}`);
  return `polytask: ${parts.join(' · ')}`;
}

function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  const two = (x: number) => String(x).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

// Counts the non-empty lines of a file (each is an item or a bad line: either gets a result;
// a line of only spaces, tabs or CR, JSON's whitespace, is counted but gets none, so the total
// can be a little high; a line of any other whitespace is a ParseError result), reading
// it in large blocks without decoding it
export async function countItems(file: string, signal?: AbortSignal): Promise<number> {
  let count = 0;
  let lastByte = 10;
  for await (const block of createReadStream(file, { highWaterMark: 1 << 20, signal }) as AsyncIterable<Buffer>) {
    for (let at = block.indexOf(10); at !== -1; at = block.indexOf(10, at + 1)) {
      const previous = at > 0 ? block[at - 1] : lastByte;
      if (previous !== 10 && !(previous === 13 && (at > 1 ? block[at - 2] : lastByte) === 10)) count++;
    }
    lastByte = block[block.length - 1] ?? lastByte;
  }
  if (lastByte !== 10) count++;
  return count;
}
