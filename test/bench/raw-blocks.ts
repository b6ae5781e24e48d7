// The stream suite's second limit for a node handler: the shape GNU parallel --pipe has, with
// polytask's output. The parent cuts the input into blocks of whole lines (16 KB: smaller blocks
// keep both children busy, larger ones leave one waiting) and sends each, with the number of its
// first line, to one of two children, at most two blocks in flight per child; it never looks at
// an item. A child decodes each line, runs the handler (`return event`) in an AsyncLocalStorage
// context as the node handler does, and writes polytask's whole result line
// ({"line","data","exit","attempts","value","stdout","stderr"}); the parent copies those bytes
// to stdout. No capture of what the handler prints, no crash handling, timeouts or ordering:
// what the work itself costs when the parent does nothing per item.
// Usage: node dist/test/bench/raw-blocks.js <input.jsonl> [block bytes]   (stdout: the results)
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readSync, writeSync } from 'node:fs';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

// a frame: two 32-bit numbers (the first line's number or the count of results; the body's
// length in bytes), then the body
function frames(onFrame: (head: number, body: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const length = pending.readUInt32LE(4);
      if (pending.length < 8 + length) break;
      onFrame(pending.readUInt32LE(0), pending.subarray(8, 8 + length));
      pending = pending.subarray(8 + length);
    }
  };
}

function frame(head: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + body.length);
  out.writeUInt32LE(head, 0);
  out.writeUInt32LE(body.length, 4);
  body.copy(out, 8);
  return out;
}

function child(): void {
  const capture = new AsyncLocalStorage<{ stdout: string; stderr: string }>();
  const handler = (event: unknown): unknown => event;
  const input = new net.Socket({ fd: 3, readable: true, writable: false });
  input.on('data', frames((first, body) => {
    let line = first;
    let count = 0;
    let text = '';
    const pieces: string[] = [];
    for (const item of body.toString('utf8').split('\n')) {
      if (item === '') {
        line++;
        continue;
      }
      const value = capture.run({ stdout: '', stderr: '' }, handler, JSON.parse(item) as unknown);
      text += `{"line":${line++},"data":${item},"exit":0,"attempts":1,"value":${JSON.stringify(value)},"stdout":"","stderr":""}\n`;
      count++;
      if (text.length > 65536) {
        pieces.push(text);
        text = '';
      }
    }
    pieces.push(text);
    const out = frame(count, Buffer.from(pieces.join('')));
    for (let at = 0; at < out.length;) at += writeSync(4, out, at);
  }));
  input.on('end', () => process.exit(0));
}

function parent(file: string, blockBytes: number): void {
  const fd = openSync(file, 'r');
  let nextLine = 1;
  let carry: Buffer = Buffer.alloc(0);
  let ended = false;
  let inFlight = 0;
  // the next block of whole lines, or undefined at the end of the input
  const nextBlock = (): Buffer | undefined => {
    if (ended) return undefined;
    const buffer = Buffer.allocUnsafe(blockBytes);
    const got = readSync(fd, buffer, 0, blockBytes, null);
    if (got === 0) {
      ended = true;
      return carry.length === 0 ? undefined : carry;
    }
    const data = carry.length === 0 ? buffer.subarray(0, got) : Buffer.concat([carry, buffer.subarray(0, got)]);
    const cut = data.lastIndexOf(10) + 1;
    carry = Buffer.from(data.subarray(cut));
    return data.subarray(0, cut);
  };
  const lines = (block: Buffer): number => {
    let count = 0;
    for (let at = block.indexOf(10); at !== -1; at = block.indexOf(10, at + 1)) count++;
    return block.length > 0 && block[block.length - 1] !== 10 ? count + 1 : count;
  };
  const children = [0, 1].map(() => ({ process: spawn(process.execPath, [fileURLToPath(import.meta.url), '--child'], { stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'] }), blocks: 0 }));
  const feed = (target: { process: ChildProcess; blocks: number }) => {
    while (target.blocks < 2) {
      const block = nextBlock();
      if (block === undefined) break;
      (target.process.stdio[3] as Writable).write(frame(nextLine, block));
      nextLine += lines(block);
      target.blocks++;
      inFlight++;
    }
    if (ended && inFlight === 0) for (const c of children) (c.process.stdio[3] as Writable).end();
  };
  for (const target of children) {
    (target.process.stdio[4] as Readable).on('data', frames((_count, body) => {
      for (let at = 0; at < body.length;) at += writeSync(1, body, at);
      target.blocks--;
      inFlight--;
      feed(target);
    }));
  }
  for (const target of children) feed(target);
}

if (process.argv[2] === '--child') child();
else parent(process.argv[2]!, Number(process.argv[3] ?? 16384));
