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

  // Returns the lines ended in `chunk`, each with its '\n', in at most two blocks: the line begun
  // in earlier chunks, joined (a copy of that line only), then the whole lines after it (a part of
  // `chunk`, not a copy: copying each chunk doubled the memory a run went through); none when no
  // line ends in it
  push(chunk: Buffer): Buffer[] {
    const last = chunk.lastIndexOf(newline);
    if (last === -1) {
      this.#pending.push(chunk);
      return [];
    }
    const blocks: Buffer[] = [];
    let from = 0;
    if (this.#pending.length > 0) {
      from = chunk.indexOf(newline) + 1;
      blocks.push(Buffer.concat([...this.#pending, chunk.subarray(0, from)]));
    }
    if (from <= last) blocks.push(chunk.subarray(from, last + 1));
    this.#pending = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
    return blocks;
  }

  // The bytes after the last '\n' (a last line without one), once the stream has ended
  end(): Buffer | undefined {
    const rest = this.#pending.length > 0 ? Buffer.concat(this.#pending) : undefined;
    this.#pending = [];
    return rest;
  }
}
