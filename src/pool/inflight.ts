// The calls in flight on one child, oldest first. Each call goes out under a sequence number
// of this child (the protocol's call id only has to be unique among a child's calls in
// flight), so an answer finds its call by index, in O(1) and in any order.
//
// Not a Map<id, Call>, on purpose: a Map that takes and drops a call per item keeps
// reallocating its table, and an outgrown table that has reached the old generation keeps
// every call it held alive until the next full GC. With a long run's churn, every call was
// promoted that way: 250 MB promoted per million items and an old generation that grew with
// the run (docs/benchmarks.md, "Memory"). A plain array that is cut from the front does not.
import type { Call } from './call.js';

export class InflightCalls {
  // calls[i] was sent under the number base + i; an answered one leaves a hole
  #calls: (Call | undefined)[] = [];
  // index of the oldest unanswered call (calls[head] is defined unless the list is empty)
  #head = 0;
  #base = 1;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  // Adds a call about to be sent; returns the number to send it under
  add(call: Call): number {
    if (this.#size === 0) {
      // start over at the next number: the array does not grow with the run
      this.#base += this.#calls.length;
      this.#calls = [];
      this.#head = 0;
    }
    this.#calls.push(call);
    this.#size++;
    return this.#base + this.#calls.length - 1;
  }

  // The call sent under `wireId`, if it is still in flight
  get(wireId: number): Call | undefined {
    const index = wireId - this.#base;
    return index >= this.#head ? this.#calls[index] : undefined;
  }

  // Removes and returns the call sent under `wireId`, if it is still in flight
  take(wireId: number): Call | undefined {
    const index = wireId - this.#base;
    const call = index >= this.#head ? this.#calls[index] : undefined;
    if (call === undefined) return undefined;
    this.#calls[index] = undefined;
    this.#size--;
    if (index === this.#head) this.#advance();
    return call;
  }

  // The oldest call still in flight, and its number
  oldest(): { call: Call; wireId: number } | undefined {
    const call = this.#calls[this.#head];
    return call === undefined ? undefined : { call, wireId: this.#base + this.#head };
  }

  // Every call in flight, oldest first
  values(): Call[] {
    return this.#calls.slice(this.#head).filter((call): call is Call => call !== undefined);
  }

  // Empties the list (the child is gone); numbering goes on
  clear(): void {
    this.#base += this.#calls.length;
    this.#calls = [];
    this.#head = 0;
    this.#size = 0;
  }

  #advance(): void {
    const calls = this.#calls;
    let head = this.#head;
    while (head < calls.length && calls[head] === undefined) head++;
    this.#head = head;
    // drop the answered front once it is most of the array (one copy per many answers)
    if (head > 1024 && head * 2 > calls.length) {
      this.#calls = calls.slice(head);
      this.#base += head;
      this.#head = 0;
    }
  }
}
