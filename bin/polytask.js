#!/usr/bin/env node
import { main } from '../dist/src/cli/index.js';

// Exit as soon as the command is done: an input still open (stdin after Ctrl-C, say) must
// not keep the process alive. Results are written by then (stdout and stderr writes to
// pipes and files are synchronous on Linux; -o files are flushed before main() returns).
process.exit(await main(process.argv.slice(2)));
