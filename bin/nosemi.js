#!/usr/bin/env node
// The CLI and its dependencies as one file (`npm run build`): loading about 120 modules one by one
// took about 50 ms of every run. It sits beside dist/src/cli/index.js, so that the paths its code
// finds from import.meta.url (handlers/, package.json) stay the same.
import { setFlagsFromString } from 'node:v8';

// V8's young generation starts at 1 MB a half and doubles when much of it survives, up to 16 MB a
// half. This process allocates little on V8's heap per item but reads tens of MB into Buffers,
// whose memory is given back only when a scavenge finds them dead: with a grown young generation
// scavenges come seldom and dead read Buffers piled up to 24 MB (a node run over 1,000,000 items
// peaked at 90 MB of RSS; 68 MB with the young generation left at its first size, and no slower).
// The flag is read each time V8 would grow the young generation, so setting it here, before the
// bundle loads, holds it at its first size. The library leaves its host's V8 alone.
//setFlagsFromString('--semi-space-growth-factor=1');
const { main } = await import('../dist/src/cli/bundle.js');

const status = await main(process.argv.slice(2));
// A slow reader of stdout may not have taken every result yet: what is still queued in this
// process must reach the pipe before it ends. A write's callback runs once everything written
// before it has gone out (or the stream failed, when the reader went away).
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => {
  if (stream.writableLength === 0 || stream.destroyed) resolve();
  else stream.write('', resolve);
})));
// Then exit at once: an input still open (stdin after Ctrl-C, say) must not keep the process alive.
process.exit(status);
