// Length-prefixed JSON frames, as Instance and the child helpers exchange them:
// a 4-byte big-endian byte count, then that many bytes of UTF-8 JSON.
import { OptionError } from '../errors.js';

export const maxFrame = 0xffffffff;

export function encodeFrame(value: unknown): Buffer {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new OptionError(`Expected the \`value\` option to be JSON-encodable, got a value that fails: ${(error as Error).message}`, { cause: error });
  }
  if (json === undefined) throw new OptionError(`Expected the \`value\` option to be JSON-encodable, got \`${String(value)}\` (${typeof value})`);
  // NaN and Infinity would arrive as null: refuse them (only a text with a null can hide one)
  if (json.includes('null')) JSON.stringify(value, refuseNonFinite);
  const length = Buffer.byteLength(json);
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, 4);
  return frame;
}

// A replacer that throws an OptionError on a number JSON cannot carry
function refuseNonFinite(key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new OptionError(`Expected the \`value\` option to be JSON-encodable, got \`${value}\`${key === '' ? '' : ` at key "${key}"`}, which JSON cannot carry`);
  }
  return value;
}

// Cuts a byte stream into frames; `pending` tells how many bytes of an unfinished frame it holds.
// A frame that is not JSON stops the reader: the values before it are still returned, and
// `error` tells what was wrong (every later push returns nothing).
export class FrameReader {
  #buffer: Buffer = Buffer.alloc(0);
  error: Error | undefined;

  push(chunk: Buffer): unknown[] {
    if (this.error !== undefined) return [];
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const values: unknown[] = [];
    let offset = 0;
    while (this.#buffer.length - offset >= 4) {
      const length = this.#buffer.readUInt32BE(offset);
      if (this.#buffer.length - offset - 4 < length) break;
      try {
        values.push(JSON.parse(this.#buffer.toString('utf8', offset + 4, offset + 4 + length)));
      } catch (error) {
        this.error = error as Error;
        break;
      }
      offset += 4 + length;
    }
    this.#buffer = offset === this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(offset);
    return values;
  }

  get pending(): number {
    return this.#buffer.length;
  }

  // e.g. 'got 3 of the 10 bytes of a frame' (or of its header)
  describePending(): string {
    if (this.#buffer.length < 4) return `got ${this.#buffer.length} of the 4 bytes of a frame header`;
    return `got ${this.#buffer.length - 4} of the ${this.#buffer.readUInt32BE(0)} bytes of a frame`;
  }
}
