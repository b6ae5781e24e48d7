#!/usr/bin/env node
// The CLI and its dependencies as one file (`npm run build`): loading about 120 modules one by one
// took about 50 ms of every run. It sits beside dist/src/cli/index.js, so that the paths its code
// finds from import.meta.url (handlers/, package.json) stay the same.
import { main } from '../dist/src/cli/bundle.js';

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
