// `polytask run`'s output line for one item, and the results the CLI makes itself
import type { ParseError } from '../errors.js';
import type { RawResult } from '../pool/items.js';
import { decimal } from '../protocol/messages.js';
import type { RestBytes } from '../remote/wire.js';
import { exitCodes } from './common.js';
import { checkLine, type InputLine } from './input.js';

// One output line; the item's text and the child's fields are copied as they came, never re-encoded
export function resultLine(item: InputLine, result: RawResult): string {
  const data = item.error === undefined ? item.text : JSON.stringify(item.text);
  return `${lineHead(item.line, data, result.exit, result.attempts, result.rest === '}')}${result.rest}\n`;
}

// An output line up to the child's fields; `bare`: none follow (the rest is only '}')
function lineHead(line: number, data: string, exit: number, attempts: number, bare: boolean): string {
  return `{"line":${decimal(line)},"data":${data},"exit":${exit},"attempts":${attempts}${bare ? '' : ','}`;
}

export function badLineResult(error: ParseError): RawResult {
  const fields = { error: { name: error.name, message: error.message }, stdout: '', stderr: '' };
  return { exit: exitCodes.dataError, rest: JSON.stringify(fields).slice(1), attempts: 0 };
}

// The result of a line its child could not decode, unchecked before: the same ParseError result
// as a line checked first, when it is not JSON (otherwise it is JSON its child could not
// decode, nested too deeply, or a handler's own 65)
export function undecoded(item: InputLine, result: RawResult): RawResult {
  const checked = checkLine(item.text, item.line);
  if (checked.error === undefined) return result;
  item.error = checked.error;
  return badLineResult(checked.error);
}

const chunkSize = 64 * 1024;

/**
 * Output lines encoded as they come into large chunks of bytes, handed out as they are: no
 * join of the lines and no encoding of a joined text later
 */
export class ResultBytes {
  #chunk = Buffer.allocUnsafe(chunkSize);
  #start = 0;
  #at = 0;
  #full: Buffer[] = [];

  add(item: InputLine, result: RawResult): void {
    const line = resultLine(item, result);
    // at most 3 bytes for each UTF-16 unit
    this.#room(3 * line.length);
    this.#at += this.#chunk.write(line, this.#at);
  }

  /** The line of a result with exit 0 whose fields after the exit are bytes read (`rest`) */
  addOk(line: number, text: string, attempts: number, rest: RestBytes): void {
    const restLength = rest.end - rest.start;
    const brace = restLength === 1 && rest.bytes[rest.start] === 0x7d;
    const head = lineHead(line, text, 0, attempts, brace);
    this.#room(3 * head.length + restLength + 1);
    this.#at += this.#chunk.write(head, this.#at);
    this.#at += rest.bytes.copy(this.#chunk, this.#at, rest.start, rest.end);
    this.#chunk[this.#at++] = 0x0a;
  }

  /** The bytes added since the last call */
  take(): Buffer[] {
    const taken = this.#full;
    if (this.#at > this.#start) taken.push(this.#chunk.subarray(this.#start, this.#at));
    this.#full = [];
    this.#start = this.#at;
    return taken;
  }

  // a chunk with `bytes` free; the bytes of the one before are kept to be taken
  #room(bytes: number): void {
    if (this.#chunk.length - this.#at >= bytes) return;
    if (this.#at > this.#start) this.#full.push(this.#chunk.subarray(this.#start, this.#at));
    this.#chunk = Buffer.allocUnsafe(Math.max(chunkSize, bytes));
    this.#start = this.#at = 0;
  }
}
