// A first-in first-out queue over an array read from a head index: taking from the front costs
// no copy of the rest. The taken front is dropped (one slice) once it is most of the array, so
// memory follows what is queued, not what went through. `dropFront` is the same compaction for
// the other arrays read from a head index (pool/process/inflight.ts, job/stream.ts's InOrder).
export class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  // The item at the front, left there
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    this.#compact();
    return item;
  }

  // Puts items back at the front, in their order (calls sent back after a death, retries)
  unshift(...items: T[]): void {
    if (items.length === 0) return;
    if (this.#head >= items.length) {
      this.#head -= items.length;
      for (let i = 0; i < items.length; i++) this.#items[this.#head + i] = items[i];
      return;
    }
    this.#items = [...items, ...this.#items.slice(this.#head)];
    this.#head = 0;
  }

  // Removes the first item that matches
  remove(match: (item: T) => boolean): T | undefined {
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as T;
      if (!match(item)) continue;
      this.#items.splice(i, 1);
      return item;
    }
    return undefined;
  }

  // Takes every item out, oldest first
  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (dropFront(this.#items.length, this.#head)) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

// Whether an array read from `head` on should drop its taken front (with one slice)
export function dropFront(length: number, head: number): boolean {
  return head > 1024 && head * 2 > length;
}
