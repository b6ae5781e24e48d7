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
