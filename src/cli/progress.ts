// The progress of `polytask run` and `polytask worker` on stderr. On a terminal: one line
// redrawn in place, at most 10 times a second and never per item, with a bar, percent,
// done/total, rate, failures, elapsed time and ETA when the total is known (a -d file), and
// count, rate, failures and elapsed time when it is not (stdin); it always fits the terminal's
// width (80 columns when the terminal reports none, or 0). Elsewhere (--progress into a file or
// a pipe): a plain line every 5 s and a last one at the end, without escape codes.
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
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

// ms between the plain lines written when stderr is not a terminal
const plainEveryMs = 5000;
// erase the line the cursor is on, and go to its start
const eraseLine = '\r\x1b[K';

export class CliProgress {
  readonly meter: ProgressMeter;
  readonly #stderr: Writable & { columns?: number };
  readonly #terminal: boolean;
  readonly #counting: AbortController = new AbortController();
  // a drawn line is on the terminal, below the cursor's start
  #drawn = false;
  #lastPlain = performance.now();
  #stopping = false;

  // A progress line, or undefined when it is off
  static start(options: CliProgressOptions): CliProgress | undefined {
    const on = options.force ?? (isTerminal(options.stderr) && !isTerminal(options.results));
    return on ? new CliProgress(options) : undefined;
  }

  private constructor(options: CliProgressOptions) {
    this.#stderr = options.stderr;
    this.#terminal = isTerminal(options.stderr);
    this.meter = new ProgressMeter((p) => this.#show(p), { intervalMs: 100 }).start();
    if (options.dataFile !== undefined) {
      countItems(options.dataFile, this.#counting.signal).then((total) => (this.meter.total = total), () => {});
    }
  }

  #show(p: Progress): void {
    if (this.#terminal) {
      // one column short of the width: writing the last column would wrap the line on some terminals
      const width = (this.#stderr.columns ?? 0) > 0 ? this.#stderr.columns! : 80;
      this.#stderr.write(`${eraseLine}${formatProgress(p, width - 1)}`);
      this.#drawn = true;
    } else if (this.#stopping || performance.now() - this.#lastPlain >= plainEveryMs) {
      this.#lastPlain = performance.now();
      this.#stderr.write(`${formatProgress(p)}\n`);
    }
  }

  // Writes the children's output to stderr above the line; the line comes back at the next redraw
  write(chunk: Buffer | string): void {
    if (this.#drawn) {
      this.#stderr.write(eraseLine);
      this.#drawn = false;
    }
    this.#stderr.write(chunk);
  }

  // Draws the last counts and leaves them on the screen
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#counting.abort();
    this.meter.stop();
    if (this.#drawn) this.#stderr.write('\n');
    this.#drawn = false;
  }
}

function isTerminal(stream: Writable | undefined): boolean {
  return (stream as Partial<NodeJS.WriteStream> | undefined)?.isTTY === true;
}

/**
 * The progress as one line; with a width (a terminal's), a bar in front and fitted to it: the
 * bar shrinks first, then the words are cut.
 */
export function formatProgress(p: Progress, width?: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const known = p.total !== undefined;
  const percent = p.total === undefined ? 0 : p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100);
  const parts = [p.total === undefined ? `${n(p.done)} done` : `${n(p.done)}/${n(p.total)} (${percent}%)`];
  if (p.skipped > 0) parts.push(`${n(p.skipped)} resumed`);
  parts.push(`${n(Math.round(p.itemsPerSecond))} items/s`);
  parts.push(`${n(p.failed)} failed`);
  parts.push(`${duration(p.elapsedMs / 1000)} elapsed`);
  if (p.etaSeconds !== undefined) parts.push(`ETA ${duration(p.etaSeconds, Math.ceil)}`);
  const text = parts.join(' · ');
  if (width === undefined) return `polytask: ${text}`;
  const room = width - 'polytask [] '.length - text.length;
  if (!known || room < 10) return `polytask: ${text}`.slice(0, width);
  const barWidth = Math.min(30, room);
  const filled = Math.round((barWidth * percent) / 100);
  return `polytask [${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${text}`;
}

function duration(seconds: number, round = Math.floor): string {
  const s = round(seconds);
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
