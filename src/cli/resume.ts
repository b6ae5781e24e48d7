// `polytask run -o results.jsonl --resume`: reads the results file, repairs it, and skips the
// input lines that already have a final result there. Lines are matched by line number and
// by a hash of the item, so that a changed input stops the run (exit 2) instead of mixing.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { ResumeError } from '../errors.js';
import { readResultsLog, ResumeMatcher } from '../job/results-log.js';
import type { InputLine } from './input.js';

// Reads and repairs the results file; says on stderr what was repaired and what is kept. With
// a regular file as input (`data`; undefined or "-": stdin), every logged line is checked
// against it here, before anything runs: a ResumeError when one is missing or differs.
export async function openResume(output: string, data: string | undefined, stderr: Writable): Promise<ResumeMatcher> {
  const fromStdin = data === undefined || data === '-';
  const log = await readResultsLog(output, { keyField: 'line' });
  if (log.tornBytes > 0) stderr.write(`polytask: ${output}: cut a torn last line (${log.tornBytes} bytes) left by an interrupted run\n`);
  if (log.dropped > 0) stderr.write(`polytask: ${output}: removed ${log.dropped} results that were not final (cancelled or doubled)\n`);
  if (log.done.size > 0) stderr.write(`polytask: resuming: ${log.done.size} results already in ${output}\n`);
  const matcher = new ResumeMatcher(log, (line) => `line ${line} of ${fromStdin ? 'stdin' : data}`);
  if (!fromStdin && log.done.size > 0 && (await stat(data).catch(() => undefined))?.isFile()) await checkInputFile(data, matcher);
  return matcher;
}

// The item as both runs see it: the parsed JSON re-encoded, or the text of a bad line
function canonical(item: InputLine): string {
  return item.error === undefined ? JSON.stringify(JSON.parse(item.text)) : JSON.stringify(item.text);
}

// Reads the input file up to its last logged line: each logged line must be there, not blank,
// and hold the item logged. Lines are numbered as readJsonLines numbers them (every "\n"
// ends one; a byte order mark and a "\r" before the "\n" are not part of the item).
async function checkInputFile(file: string, matcher: ResumeMatcher): Promise<void> {
  const logged = matcher.log.done;
  const found = new Set<number>();
  // one logged line: blank is no item (JSON whitespace only), anything else is compared
  const check = (line: number, raw: string): void => {
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (/^[ \t\r\n]*$/.test(text)) return;
    let parsed: string | undefined;
    try {
      parsed = JSON.stringify(JSON.parse(text));
    } catch {
      // not JSON: logged as a bad line, its text as a string
    }
    try {
      matcher.check(line, () => parsed ?? JSON.stringify(text));
    } catch (error) {
      // a line the input reader makes a ParseError although JSON.parse takes it is logged as its text
      if (parsed === undefined) throw error;
      matcher.check(line, () => JSON.stringify(text));
    }
    found.add(line);
  };
  const input = createReadStream(file, { encoding: 'utf8' });
  let lineNo = 0;
  // the start of a logged line that goes on in the next chunk
  let parts: string[] = [];
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      let from = 0;
      for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', from)) {
        lineNo++;
        if (logged.has(lineNo)) check(lineNo, parts.join('') + chunk.slice(from, end));
        parts = [];
        from = end + 1;
      }
      if (logged.has(lineNo + 1)) parts.push(chunk.slice(from));
      if (found.size === logged.size) return;
    }
    if (parts.length > 0) check(lineNo + 1, parts.join(''));
  } finally {
    input.destroy();
  }
  const error = matcher.missing([...logged.keys()].filter((line) => !found.has(line)));
  if (error !== undefined) throw error;
}

// Passes on the lines that still need a result; `onSkip` hears of each chunk's skipped lines.
// A line that differs from its logged item ends the input there: the items before it still
// run and are written, and `matcher.finish()`, called once the run has drained, throws.
export async function* skipLogged(
  chunks: AsyncIterable<InputLine[]>,
  matcher: ResumeMatcher,
  onSkip?: (skipped: number, failed: number) => void,
): AsyncGenerator<InputLine[], void, undefined> {
  for await (const chunk of chunks) {
    let skipped = 0;
    let failed = 0;
    let changed: ResumeError | undefined;
    let rest = chunk;
    if (matcher.log.done.size > 0) {
      rest = [];
      for (const item of chunk) {
        let logged;
        try {
          logged = matcher.match(item.line, () => canonical(item));
        } catch (error) {
          if (!(error instanceof ResumeError)) throw error;
          changed = error;
          break;
        }
        if (logged === undefined) rest.push(item);
        else {
          skipped++;
          if (logged.failed) failed++;
        }
      }
    }
    if (skipped > 0) onSkip?.(skipped, failed);
    if (rest.length > 0) yield rest;
    if (changed !== undefined) {
      matcher.fail(changed);
      return;
    }
  }
}
