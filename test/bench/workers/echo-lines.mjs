// The stream suite's node handler for GNU parallel --pipe: one long-lived Node reading JSON
// lines on stdin and writing one JSON result line per item.
import { createInterface } from 'node:readline';

let pending = '';
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.length === 0) continue;
  pending += `${JSON.stringify({ data: JSON.parse(line), exit: 0 })}\n`;
  if (pending.length > 65536) {
    const room = process.stdout.write(pending);
    pending = '';
    if (!room) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
}
process.stdout.write(pending);
