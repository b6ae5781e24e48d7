// `polytask run -o results.jsonl --resume`: reads the results file, repairs it, and skips the
// input lines that already have a final result there. Lines are matched by line number and
// by a hash of the item, so that a changed input stops the run (exit 2) instead of mixing.
import type { Writable } from 'node:stream';
import { readResultsLog, ResumeMatcher } from '../job/results-log.js';
import type { InputLine } from './input.js';

// Reads and repairs the results file; says on stderr what was repaired and what is kept
export async function openResume(output: string, dataName: string, stderr: Writable): Promise<ResumeMatcher> {
  const log = await readResultsLog(output, { keyField: 'line' });
  if (log.tornBytes > 0) stderr.write(`polytask: ${output}: cut a torn last line (${log.tornBytes} bytes) left by an interrupted run\n`);
  if (log.dropped > 0) stderr.write(`polytask: ${output}: removed ${log.dropped} results that were not final (cancelled or doubled)\n`);
  if (log.done.size > 0) stderr.write(`polytask: resuming: ${log.done.size} results already in ${output}\n`);
  return new ResumeMatcher(log, (line) => `line ${line} of ${dataName}`);
}

// The item as both runs see it: the parsed JSON re-encoded, or the text of a bad line
function canonical(item: InputLine): string {
  return item.error === undefined ? JSON.stringify(JSON.parse(item.text)) : JSON.stringify(item.text);
}

// Passes on the lines that still need a result; `onSkip` hears of each chunk's skipped lines
export async function* skipLogged(
  chunks: AsyncIterable<InputLine[]>,
  matcher: ResumeMatcher,
  onSkip?: (skipped: number, failed: number) => void,
): AsyncGenerator<InputLine[], void, undefined> {
  for await (const chunk of chunks) {
    let skipped = 0;
    let failed = 0;
    const rest = matcher.log.done.size === 0 ? chunk : chunk.filter((item) => {
      const logged = matcher.match(item.line, () => canonical(item));
      if (logged === undefined) return true;
      skipped++;
      if (logged.failed) failed++;
      return false;
    });
    if (skipped > 0) onSkip?.(skipped, failed);
    if (rest.length > 0) yield rest;
  }
  matcher.finish();
}
