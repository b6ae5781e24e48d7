// Replacing children between items: after maxTasksPerWorker items, or once a child's resident
// memory is above maxMemoryMb. No item is touched: a child marked retiring gets no more calls
// and is replaced once idle. Also samples every child's CPU time and memory for stats().
import type { PoolSettings } from './options.js';
import type { Slot } from './slot.js';
import type { PoolMeter } from './stats.js';

// how often the children's CPU time and memory are read (with maxMemoryMb, also between items:
// see PoolMeter.memoryDue)
const sampleEveryMs = 250;

export class Recycler {
  readonly #maxTasks: number | undefined;
  readonly #maxMemoryMb: number | undefined;
  readonly #meter: PoolMeter;
  readonly #replace: (slot: Slot) => void;
  #sampler: NodeJS.Timeout | undefined;
  // children being ended after their replacement started: close() must still wait for them
  readonly #retiring = new Set<Promise<unknown>>();
  #stopped = false;

  constructor(settings: PoolSettings, meter: PoolMeter, replace: (slot: Slot) => void) {
    this.#maxTasks = settings.maxTasks;
    this.#maxMemoryMb = settings.maxMemoryMb;
    this.#meter = meter;
    this.#replace = replace;
  }

  start(slots: readonly Slot[]): void {
    this.#sampler = setInterval(() => {
      for (const slot of slots) {
        // a child still starting is left alone: recycling it would fail its start
        if (slot.worker?.ready === undefined) continue;
        if (this.#overMemory(slot, this.#meter.sample(slot.id, slot.pid))) this.#retire(slot);
      }
    }, sampleEveryMs).unref();
  }

  // After results from a slot's child: its quota, and now and then its memory
  afterResults(slot: Slot, now: number): void {
    if (this.#maxTasks !== undefined && slot.sent >= this.#maxTasks) slot.retiring = true;
    if (this.#maxMemoryMb !== undefined && this.#meter.memoryDue(slot.id, now) && this.#overMemory(slot, this.#meter.sample(slot.id, slot.pid))) slot.retiring = true;
    if (slot.retiring && slot.inflight.size === 0) this.#recycle(slot);
  }

  #overMemory(slot: Slot, rss: number | undefined): boolean {
    return slot.worker !== undefined && rss !== undefined && this.#maxMemoryMb !== undefined && rss > this.#maxMemoryMb;
  }

  #retire(slot: Slot): void {
    slot.retiring = true;
    if (slot.inflight.size === 0) this.#recycle(slot);
  }

  #recycle(slot: Slot): void {
    const worker = slot.worker;
    if (worker === undefined || this.#stopped) return;
    this.#meter.count('recycled');
    this.#meter.sample(slot.id, slot.pid);
    slot.vacate();
    const closing = worker.close(2000).finally(() => this.#retiring.delete(closing));
    this.#retiring.add(closing);
    this.#replace(slot);
  }

  // The pool closes: no more recycling; resolves once the children being ended are gone
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#sampler);
    await Promise.all(this.#retiring);
  }
}
