// The thread pool's calls not settled: to reject them all on close(), and to hear their cancels.
// A call with onAbort (a Future's) subscribes through it; calls with a signal share one 'abort'
// listener per signal however many they are (adding an EventTarget listener costs O(listeners)).
// The list runs through the calls themselves, not a Set, whose table churn with a call per add
// and delete would keep calls alive after they are settled (an outgrown table promoted to the
// old generation holds them until a full GC).
import type { PendingCall } from './batch.js';

export class LiveCalls {
  // newest first
  #newest: PendingCall | undefined;
  readonly #bySignal = new Map<AbortSignal, { calls: Set<PendingCall>; listener: () => void }>();

  // Adds a call and listens for its cancel (which may come at once: the call is then settled)
  add(pending: PendingCall): void {
    pending.nextLive = this.#newest;
    if (this.#newest !== undefined) this.#newest.prevLive = pending;
    this.#newest = pending;
    const { options } = pending;
    if (options.onAbort !== undefined) {
      const unsubscribe = options.onAbort(() => pending.fail(pending.options.signal?.reason));
      if (pending.settled) unsubscribe();
      else pending.unsubscribe = unsubscribe;
      return;
    }
    const signal = options.signal;
    if (signal === undefined) return;
    let entry = this.#bySignal.get(signal);
    if (entry === undefined) {
      const calls = new Set<PendingCall>();
      entry = { calls, listener: () => [...calls].forEach((p) => p.fail(signal.reason)) };
      this.#bySignal.set(signal, entry);
      signal.addEventListener('abort', entry.listener, { once: true });
    }
    entry.calls.add(pending);
  }

  // A call settled
  remove(pending: PendingCall): void {
    const { prevLive, nextLive } = pending;
    // not in the list (never added, or taken out already): the list must stay whole
    if (prevLive === undefined && this.#newest !== pending) return;
    if (prevLive === undefined) this.#newest = nextLive;
    else prevLive.nextLive = nextLive;
    if (nextLive !== undefined) nextLive.prevLive = prevLive;
    // a settled call points to nothing: garbage must not keep live calls from the young generation
    pending.prevLive = undefined;
    pending.nextLive = undefined;
    if (pending.options.onAbort !== undefined) {
      pending.unsubscribe?.();
      pending.unsubscribe = undefined;
      return;
    }
    const signal = pending.options.signal;
    const entry = signal === undefined ? undefined : this.#bySignal.get(signal);
    if (entry === undefined || !entry.calls.delete(pending) || entry.calls.size > 0) return;
    this.#bySignal.delete(signal!);
    signal!.removeEventListener('abort', entry.listener);
  }

  // Every call not settled, oldest first
  all(): PendingCall[] {
    const live: PendingCall[] = [];
    for (let p = this.#newest; p !== undefined; p = p.nextLive) live.push(p);
    return live.reverse();
  }
}
