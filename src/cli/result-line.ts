// `polytask run`'s output line for one item, and the results the CLI makes itself
import type { ParseError } from '../errors.js';
import type { RawResult } from '../pool/items.js';
import { decimal } from '../protocol/messages.js';
import { exitCodes } from './common.js';
import { checkLine, type InputLine } from './input.js';

// One output line; the item's text and the child's fields are copied as they came, never re-encoded
export function resultLine(item: InputLine, result: RawResult): string {
  const data = item.error === undefined ? item.text : JSON.stringify(item.text);
  return `{"line":${decimal(item.line)},"data":${data},"exit":${result.exit},"attempts":${result.attempts}${result.rest === '}' ? '' : ','}${result.rest}\n`;
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
