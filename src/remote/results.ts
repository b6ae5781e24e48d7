// Reads a run's results stream: workers append blocks of result lines (wire.ts); each is read
// once, handed over, and trimmed off, so Redis holds only results not read yet. Results come
// from this stream and not from BullMQ's events, which are trimmed and lost when a reader falls
// behind (taskforcesh/bullmq#2517).
import type { Redis } from 'ioredis';

const count = 16;

/**
 * One entry of the stream: a job a worker started, or results lines (wire.ts) with the item time
 * measured; the producer's own heartbeat entries (`h`, keys.ts runHeartbeat) come as none of these. The lines stay bytes, as read (forEachResult): no string of them outlives a scavenge
 * while the entries of a read are handed over.
 */
export interface ResultsEntry {
  started?: string;
  results?: Buffer;
  /** runs of whole output lines (wire.ts, forEachWhole) */
  whole?: Buffer;
  itemMs?: number;
}

export class ResultsReader {
  #last = '0-0';
  #caughtUpTo = 0;
  #stopped = false;
  #trimmed = '0-0';
  readonly done: Promise<void>;

  /**
   * @param reader a connection of its own (XREAD BLOCK holds it)
   * @param trimmer any other connection, for XTRIM
   */
  constructor(
    readonly reader: Redis,
    readonly trimmer: Redis,
    readonly key: string,
    readonly onEntry: (entry: ResultsEntry) => void,
  ) {
    this.done = this.#loop();
  }

  /** Every result written to the stream before this time (Date.now()) has been handed over */
  get caughtUpTo(): number {
    return this.#caughtUpTo;
  }

  stop(): void {
    this.#stopped = true;
    this.reader.disconnect();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const startedAt = Date.now();
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        reply = (await this.reader.xreadBuffer('COUNT', count, 'BLOCK', 500, 'STREAMS', this.key, this.#last)) as typeof reply;
      } catch {
        if (this.#stopped) return;
        // a lost connection: ioredis reconnects; the producer's watchdog decides when to give up
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      for (const [id, fields] of entries) {
        this.#last = id.toString();
        const entry: ResultsEntry = {};
        for (let i = 0; i < fields.length; i += 2) {
          const name = fields[i]![0];
          const value = fields[i + 1]!;
          if (name === 0x72) entry.results = value;
          else if (name === 0x77) entry.whole = value;
          else if (name === 0x74) entry.itemMs = Number(value.toString());
          else if (name === 0x73) entry.started = value.toString();
        }
        this.onEntry(entry);
      }
      if (entries.length < count) this.#caughtUpTo = startedAt;
      if (entries.length > 0 && this.#last !== this.#trimmed) {
        this.#trimmed = this.#last;
        // entries before the last one read go; a failed trim is done by the next one
        this.trimmer.xtrim(this.key, 'MINID', this.#last).catch(() => {});
      }
    }
  }
}
