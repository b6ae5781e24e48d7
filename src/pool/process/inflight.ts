// The calls in flight on one child, oldest first, found by their id (the pool's call id, which
// the child echoes in its result).
//
// Not a Map<id, Call>, on purpose: a Map that takes and drops a call per item keeps
// reallocating its table, and an outgrown table that has reached the old generation keeps
// every call it held alive until the next full GC. With a long run's churn, every call was
// promoted that way: 250 MB promoted per million items and an old generation that grew with
// the run (docs/benchmarks.md, "Memory"). A plain array in send order does not: children
// answer mostly in that order, so the call answered is nearly always the oldest one, and
// otherwise a few places after it.
import { dropFront } from '../queue.js';
import type { Call } from './call.js';

export class InflightCalls {
  // in send order from #head on; an answered call leaves a hole
  #calls: (Call | undefined)[] = [];
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  // A call sent to the child
  add(call: Call): void {
    this.#calls.push(call);
    this.#size++;
  }

  // The call with this id, if it is in flight
  get(id: number): Call | undefined {
    const index = this.#find(id);
    return index === -1 ? undefined : this.#calls[index];
  }

  // Removes and returns the call with this id, if it is in flight
  take(id: number): Call | undefined {
    const index = this.#find(id);
    if (index === -1) return undefined;
    const calls = this.#calls;
    const call = calls[index];
    calls[index] = undefined;
    this.#size--;
    if (index === this.#head) {
      let head = index + 1;
      while (head < calls.length && calls[head] === undefined) head++;
      this.#head = head;
    }
    this.#compact();
    return call;
  }

  // The oldest call still in flight
  oldest(): Call | undefined {
    return this.#calls[this.#head];
  }

  // Every call in flight, oldest first
  values(): Call[] {
    return this.#calls.slice(this.#head).filter((call): call is Call => call !== undefined);
  }

  // Empties the list (the child is gone)
  clear(): void {
    this.#calls = [];
    this.#head = 0;
    this.#size = 0;
  }

  #find(id: number): number {
    const calls = this.#calls;
    for (let i = this.#head; i < calls.length; i++) if (calls[i]?.id === id) return i;
    return -1;
  }

  // Keeps the array at most about twice the calls in flight: the answered front is dropped,
  // and the holes left behind a call that stays in flight while later ones are answered are
  // squeezed out, so that a search never walks far
  #compact(): void {
    const calls = this.#calls;
    if (this.#size === 0) {
      this.clear();
    } else if (calls.length - this.#head > 2 * this.#size + 64) {
      this.#calls = this.values();
      this.#head = 0;
    } else if (dropFront(calls.length, this.#head)) {
      this.#calls = calls.slice(this.#head);
      this.#head = 0;
    }
  }
}
