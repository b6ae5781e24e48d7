// Large binary arguments (issue 16, point 7): five calls, each with a fresh 64 MB ArrayBuffer,
// to a worker thread that returns its byteLength: polytask copying it (structured clone),
// polytask with move() (transferred), and piscina with Piscina.move() (transferred), one pool
// of one thread each, started before the clock. Each buffer is written through before the
// clock starts, so that no run pays for its pages.
import path from 'node:path';
import { Piscina } from 'piscina';
import { move, task } from '../../src/index.js';
import { median, table, workers, type BenchContext } from './common.js';
import { rotation } from './pools.js';

export const transferCalls = 5;
const transferRounds = (ctx: BenchContext) => Math.max(ctx.rounds, ctx.quick ? 3 : 15);
export const transferMb = 64;

interface Sender {
  name: string;
  kind: 'polytask' | 'peer';
  call: (buffer: ArrayBuffer) => PromiseLike<number>;
  close: () => Promise<unknown>;
}

export interface TransferResult {
  name: string;
  kind: Sender['kind'];
  // median ms for the calls, and each round's
  ms: number;
  rounds: number[];
}

export interface TransferReport {
  calls: number;
  mb: number;
  results: TransferResult[];
}

function buffers(): ArrayBuffer[] {
  return Array.from({ length: transferCalls }, () => {
    const buffer = new ArrayBuffer(transferMb * 2 ** 20);
    new Uint8Array(buffer).fill(1);
    return buffer;
  });
}

async function round(sender: Sender): Promise<number> {
  const sent = buffers();
  const start = process.hrtime.bigint();
  for (const buffer of sent) {
    const size = await sender.call(buffer);
    if (size !== transferMb * 2 ** 20) throw new Error(`${sender.name}: the worker saw ${size} bytes`);
  }
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function runTransfer(ctx: BenchContext): Promise<TransferReport> {
  const size = task((buffer: ArrayBuffer) => buffer.byteLength, { concurrency: 1 });
  const pool = new Piscina<ArrayBuffer, number>({ filename: path.join(workers, 'byte-length.mjs'), minThreads: 1, maxThreads: 1 });
  const senders: Sender[] = [
    { name: 'polytask task(fn)(buffer): copied', kind: 'polytask', call: (b) => size(b), close: () => Promise.resolve() },
    { name: 'polytask task(fn)(move(buffer))', kind: 'polytask', call: (b) => size(move(b)), close: () => size.close() },
    { name: 'piscina run(Piscina.move(buffer))', kind: 'peer', call: (b) => pool.run(Piscina.move(b) as ArrayBuffer), close: () => pool.destroy() },
  ];
  try {
    for (const sender of senders) await sender.call(new ArrayBuffer(transferMb * 2 ** 20));
    const times = senders.map((): number[] => []);
    // a round is a tenth of a second, and its noise (page faults) a few ms: more rounds than the others
    for (let r = 0; r < transferRounds(ctx); r++) {
      for (const i of rotation(senders.length, r)) times[i]!.push(await round(senders[i]!));
    }
    ctx.log(`transfer: measured ${transferCalls} calls of ${transferMb} MB`);
    return { calls: transferCalls, mb: transferMb, results: senders.map((s, i) => ({ name: s.name, kind: s.kind, ms: median(times[i]!), rounds: times[i]! })) };
  } finally {
    await Promise.allSettled(senders.map((s) => s.close()));
  }
}

export function formatTransfer(report: TransferReport): string {
  const piscina = report.results.find((r) => r.kind === 'peer')?.ms;
  return [
    `${report.calls} calls, each with a fresh ${report.mb} MB ArrayBuffer, to one worker thread that returns its size; median of ${report.results[0]?.rounds.length ?? 0} rounds. ` +
      'Ratio: piscina\'s time over this one (above 1: faster than piscina).',
    '',
    table(['how', 'ms', 'vs piscina', 'fastest and slowest round (ms)'], report.results.map((r) => [r.name, r.ms.toFixed(1), piscina === undefined ? '' : `${(piscina / r.ms).toFixed(2)}x`, `${Math.min(...r.rounds).toFixed(0)}, ${Math.max(...r.rounds).toFixed(0)}`])),
  ].join('\n');
}
