// The calls waiting out their retry delay
import type { Call, ItemResult } from './call.js';

// The calls waiting out their delay before running again, each with the failure it had (its
// result if the pool closes first)
export class RetryQueue {
  readonly #waiting = new Map<Call, { timer: NodeJS.Timeout; result: ItemResult }>();

  get size(): number {
    return this.#waiting.size;
  }

  // `due` runs after `delay` ms, unless the call is taken out first
  add(call: Call, result: ItemResult, delay: number, due: (call: Call) => void): void {
    const timer = setTimeout(() => {
      this.#waiting.delete(call);
      due(call);
    }, delay);
    this.#waiting.set(call, { timer, result });
  }

  // Takes the call with this id out of the queue (for a cancel)
  take(id: number): Call | undefined {
    for (const [call, waiting] of this.#waiting) {
      if (call.id !== id) continue;
      clearTimeout(waiting.timer);
      this.#waiting.delete(call);
      return call;
    }
    return undefined;
  }

  // Takes every call out, with the failure each had
  drain(): [Call, ItemResult][] {
    const all = [...this.#waiting].map(([call, waiting]): [Call, ItemResult] => {
      clearTimeout(waiting.timer);
      return [call, waiting.result];
    });
    this.#waiting.clear();
    return all;
  }
}
