// Reads a run's results stream: workers append blocks of result lines (wire.ts); each is read
// once, handed over, and trimmed off, so Redis holds only results not read yet. Results come
// from this stream and not from BullMQ's events, which are trimmed and lost when a reader falls
// behind (taskforcesh/bullmq#2517).
import type { Redis } from 'ioredis';
import { parseResultLine, type ParsedResult } from './wire.js';

const count = 16;

/** One entry of the stream: a job a worker started, or results with the item time measured */
export interface ResultsEntry {
  started?: string;
  results: ParsedResult[];
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
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.reader.xread('COUNT', count, 'BLOCK', 500, 'STREAMS', this.key, this.#last)) as typeof reply;
      } catch {
        if (this.#stopped) return;
        // a lost connection: ioredis reconnects; the producer's watchdog decides when to give up
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      for (const [id, fields] of entries) {
        this.#last = id;
        const entry: ResultsEntry = { results: [] };
        for (let i = 0; i < fields.length; i += 2) {
          const value = fields[i + 1]!;
          if (fields[i] === 'r') entry.results = value === '' ? [] : value.split('\n').map(parseResultLine);
          else if (fields[i] === 't') entry.itemMs = Number(value);
          else if (fields[i] === 's') entry.started = value;
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
