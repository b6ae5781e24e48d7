// A results log: one JSON result per line, appended as results come, that a later run can
// resume from. Reading it repairs what a kill can leave (a torn last line) and keeps one final
// result per item: each item is known by a key (the input line number for the CLI, the
// 0-based index for the API) and a hash of its canonical JSON, so that a changed input is
// reported instead of being mixed with results of the old one.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ResumeError } from '../errors.js';

export interface LoggedItem {
  hash: string;
  // the result's exit status was not 0
  failed: boolean;
  // the logged `value`, kept only when asked (SynchronousJob fills its results with them)
  value?: unknown;
}

export interface ResultsLog {
  file: string;
  // key -> the item's final result
  done: Map<number, LoggedItem>;
  // bytes of a torn last line cut off (0: none)
  tornBytes: number;
  // lines removed because they were not final (`cancelled: true`) or a second result for a key
  dropped: number;
}

export interface ReadOptions {
  // the field of a result line that holds the key: "line" (CLI) or "index" (API)
  keyField: 'line' | 'index';
  keepValues?: boolean;
}

// node:crypto takes a few ms to load, and only a resumed run needs it: readResultsLog loads it,
// and every log a ResumeMatcher compares with comes from readResultsLog
let crypto: typeof import('node:crypto') | undefined;

// A short hash of an item's canonical JSON text (JSON.stringify of the parsed item)
export function itemHash(canonical: string): string {
  return crypto!.createHash('sha1').update(canonical).digest('base64url').slice(0, 16);
}

// Reads a results log, repairing it in place; a missing file is an empty log
export async function readResultsLog(file: string, options: ReadOptions): Promise<ResultsLog> {
  crypto ??= await import('node:crypto');
  const tornBytes = await cutTornLine(file);
  const done = new Map<number, LoggedItem>();
  const drop = new Set<number>();
  let lineNo = 0;
  for await (const text of lines(file)) {
    lineNo++;
    if (text === '') continue;
    let result: Record<string, unknown>;
    try {
      result = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new ResumeError(file, undefined, `${file} line ${lineNo} is not a JSON result line (${(error as Error).message}); is it a results log?`);
    }
    const key = typeof result === 'object' && result !== null ? result[options.keyField] : undefined;
    if (typeof key !== 'number' || !Number.isSafeInteger(key) || !('data' in result)) {
      throw new ResumeError(file, undefined, `${file} line ${lineNo} has no "${options.keyField}" and "data" fields; is it a results log?`);
    }
    if (result.cancelled === true || done.has(key)) {
      drop.add(lineNo);
      continue;
    }
    const item: LoggedItem = { hash: itemHash(JSON.stringify(result.data)), failed: typeof result.exit === 'number' ? result.exit !== 0 : 'error' in result };
    if (options.keepValues) item.value = result.value;
    done.set(key, item);
  }
  if (drop.size > 0) await rewriteWithout(file, drop);
  return { file, done, tornBytes, dropped: drop.size };
}

// Tells, item by item, whether an item already has a final result in the log
export class ResumeMatcher {
  readonly log: ResultsLog;
  // how the key is named in messages: "line 12 of items.jsonl", "item 11"
  readonly #describe: (key: number) => string;
  #failed: ResumeError | undefined;

  constructor(log: ResultsLog, describe: (key: number) => string) {
    this.log = log;
    this.#describe = describe;
  }

  // The logged result when the item is done; throws a ResumeError when the item differs
  // from the one logged. `canonical` is called only for items in the log.
  match(key: number, canonical: () => string): LoggedItem | undefined {
    const logged = this.check(key, canonical);
    // matched once: what is left at the end is what the input no longer has
    if (logged !== undefined) this.log.done.delete(key);
    return logged;
  }

  // As match(), but the item stays in the log: for a check of the input before the run
  check(key: number, canonical: () => string): LoggedItem | undefined {
    const logged = this.log.done.get(key);
    if (logged === undefined) return undefined;
    if (itemHash(canonical()) !== logged.hash) {
      throw new ResumeError(this.log.file, key, `${this.#describe(key)} differs from the item whose result is in ${this.log.file}: the input changed since that run; resume with the same input, or write to a new results file`);
    }
    return logged;
  }

  // Records a mismatch found while reading the input, for finish() to throw once the run has
  // written what it had started
  fail(error: ResumeError): void {
    this.#failed ??= error;
  }

  // Called when the input has ended: a logged item the input no longer has is a changed input
  finish(): void {
    if (this.#failed !== undefined) throw this.#failed;
    const error = this.missing(this.log.done.keys());
    if (error !== undefined) throw error;
  }

  // The error for logged keys that the input does not have, or undefined when there are none
  missing(keys: Iterable<number>): ResumeError | undefined {
    let count = 0;
    // the first of them in the input (the log is in completion order)
    let first = Infinity;
    for (const key of keys) {
      count++;
      first = Math.min(first, key);
    }
    if (count === 0) return undefined;
    return new ResumeError(this.log.file, first, `${this.log.file} has results for ${count} ${count === 1 ? 'item' : 'items'} that the input no longer has (${this.#describe(first)}${count > 1 ? ', ...' : ''}): the input changed since that run; resume with the same input, or write to a new results file`);
  }
}

// Cuts a last line that has no end-of-line (the run was killed while writing it)
async function cutTornLine(file: string): Promise<number> {
  let handle;
  try {
    handle = await open(file, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new ResumeError(file, undefined, `cannot read the results log ${file}: ${(error as Error).message}`);
  }
  try {
    const { size } = await handle.stat();
    const block = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      const at = block.subarray(0, bytesRead).lastIndexOf(10);
      if (at !== -1) {
        const keep = start + at + 1;
        if (keep < size) await handle.truncate(keep);
        return size - keep;
      }
      end = start;
    }
    if (size > 0) await handle.truncate(0);
    return size;
  } finally {
    await handle.close();
  }
}

async function* lines(file: string): AsyncGenerator<string, void, undefined> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<boolean>((resolve, reject) => {
    input.once('open', () => resolve(true));
    input.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve(false) : reject(error)));
  });
  if (!(await opened)) return;
  const reader = createInterface({ input, crlfDelay: Infinity });
  try {
    yield* reader;
  } finally {
    reader.close();
    input.destroy();
  }
}

// Rewrites the log without some of its lines, through a new file renamed over it, so that a
// kill during the rewrite leaves the old log whole. A symbolic link stays one: the file it
// points to is the one replaced. The new file keeps the old one's mode, and is created under
// an unpredictable name that must not exist yet (O_EXCL), so that nothing planted there (a
// link to another file) is written through.
async function rewriteWithout(file: string, drop: Set<number>): Promise<void> {
  let temp: string | undefined;
  let out: FileHandle | undefined;
  // the temporary file is ours to remove only once this run created it
  let created = false;
  try {
    const target = await realpath(file);
    const { mode } = await stat(target);
    temp = path.join(path.dirname(target), `.${path.basename(target)}.${crypto!.randomBytes(9).toString('base64url')}.tmp`);
    out = await open(temp, 'wx', mode & 0o7777);
    created = true;
    // the mode given to open() went through the umask; fchmod does not
    await out.chmod(mode & 0o7777);
    let lineNo = 0;
    let pending = '';
    for await (const text of lines(target)) {
      lineNo++;
      if (drop.has(lineNo) || text === '') continue;
      pending += `${text}\n`;
      if (pending.length >= 64 * 1024) {
        await out.writeFile(pending);
        pending = '';
      }
    }
    if (pending !== '') await out.writeFile(pending);
    // on disk before it takes the old log's place: a crash then leaves one log or the other, whole
    await out.sync();
    await out.close();
    out = undefined;
    await rename(temp, target);
  } catch (error) {
    await out?.close().catch(() => {});
    if (created) await rm(temp!, { force: true });
    throw new ResumeError(file, undefined, `cannot rewrite the results log ${file}: ${(error as Error).message}`);
  }
}

// Opens a results log for a run from the API: with `resume`, reads and repairs it and gives
// the matcher of logged items (0-based indexes, items hashed as JSON.stringify(item)); the
// stream appends to it, or starts it anew without `resume`
export async function openApiLog(file: string, resume: boolean, keepValues = false): Promise<{ matcher: ResumeMatcher | undefined; stream: WriteStream }> {
  const matcher = resume ? new ResumeMatcher(await readResultsLog(file, { keyField: 'index', keepValues }), (index) => `item ${index}`) : undefined;
  const stream = createWriteStream(file, { flags: resume ? 'a' : 'w' });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(new ResumeError(file, undefined, `cannot write the results log ${file}: ${error.message}`)));
  });
  return { matcher, stream };
}

// One result line of the API's log, or undefined when the item or its value is not JSON
export function logLine(fields: Record<string, unknown>): string | undefined {
  try {
    const text = JSON.stringify(fields);
    return text === undefined ? undefined : `${text}\n`;
  } catch {
    return undefined;
  }
}
