// Line splitting for every reader of lines: the results a child writes (pool/process/worker.ts),
// a child's output (process/lines.ts) and the CLI's input (cli/input.ts). Each chunk is cut
// after its last '\n'; what follows waits for the next chunk.

// Splits a stream of text chunks into lines, keeping the partial tail for the next chunk
export class LineSplitter {
  #tail = '';

  // Returns the complete lines in `chunk` (without their '\n')
  push(chunk: string): string[] {
    const lines = chunk.split('\n');
    if (this.#tail !== '') lines[0] = this.#tail + lines[0];
    this.#tail = lines.pop() ?? '';
    return lines;
  }

  // The text after the last '\n', once the stream has ended
  end(): string {
    const tail = this.#tail;
    this.#tail = '';
    return tail;
  }
}

const newline = 0x0a;

// The same cut on bytes, for a reader that looks at the bytes of whole lines before decoding
// them (the CLI checks they are UTF-8): one block of lines per chunk, not one string per line
export class LineBlockSplitter {
  // the pieces of a line not ended yet: joined once its end comes, not at every chunk
  #pending: Buffer[] = [];

  // Returns the lines ended in `chunk` (with those begun before it), each with its '\n';
  // undefined when no line ends in it
  push(chunk: Buffer): Buffer | undefined {
    const end = chunk.lastIndexOf(newline);
    if (end === -1) {
      this.#pending.push(chunk);
      return undefined;
    }
    const head = chunk.subarray(0, end + 1);
    const block = this.#pending.length > 0 ? Buffer.concat([...this.#pending, head]) : head;
    this.#pending = end + 1 < chunk.length ? [chunk.subarray(end + 1)] : [];
    return block;
  }

  // The bytes after the last '\n' (a last line without one), once the stream has ended
  end(): Buffer | undefined {
    const rest = this.#pending.length > 0 ? Buffer.concat(this.#pending) : undefined;
    this.#pending = [];
    return rest;
  }
}
