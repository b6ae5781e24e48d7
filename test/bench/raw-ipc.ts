// The stream suite's limit for a node handler: the same job as `polytask run` with the least
// machinery Node offers. Two forked Node children, each line sent as one IPC message (JSON
// serialization, Node's default), the child decodes it, builds a result and sends its JSON
// line back; the parent writes the results to stdout. Up to `window` messages in flight per
// child, round robin. No output capture, no crash handling, no ordering: the floor of what
// process.send/fork costs.
// Usage: node dist/test/bench/raw-ipc.js <input.jsonl> [window]   (stdout: the results)
import { fork } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

if (process.argv[2] === '--child') {
  process.on('message', (line: string) => {
    process.send!(JSON.stringify({ data: JSON.parse(line) as unknown, exit: 0 }));
  });
  process.on('disconnect', () => process.exit(0));
} else {
  await parent(process.argv[2]!, Number(process.argv[3] ?? 256));
}

async function parent(input: string, window: number): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const children = [0, 1].map(() => fork(self, ['--child'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  const inFlight = children.map(() => 0);
  let wake: (() => void) | undefined;
  let pending = '';
  const flush = () => {
    if (pending.length > 0) {
      process.stdout.write(pending);
      pending = '';
    }
  };
  children.forEach((child, i) => {
    child.on('message', (result: string) => {
      inFlight[i]!--;
      pending += `${result}\n`;
      if (pending.length > 65536) flush();
      if (wake !== undefined) {
        const w = wake;
        wake = undefined;
        w();
      }
    });
  });
  const lines = createInterface({ input: createReadStream(input), crlfDelay: Infinity });
  let next = 0;
  for await (const line of lines) {
    if (line.length === 0) continue;
    // round robin to a child with room; wait for a result when both are full
    for (;;) {
      const i = inFlight[next]! < window ? next : inFlight[1 - next]! < window ? 1 - next : -1;
      if (i >= 0) {
        children[i]!.send(line);
        inFlight[i]!++;
        next = 1 - i;
        break;
      }
      flush();
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  while (inFlight[0]! + inFlight[1]! > 0) {
    flush();
    await new Promise<void>((resolve) => (wake = resolve));
  }
  flush();
  for (const child of children) child.disconnect();
}
