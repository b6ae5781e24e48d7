// The CLI run in this process with streams of its own, for command lines that end before (or
// without) real work: resolves to the exit status and what was written
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/index.js';

export async function runCli(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const status = await main(argv, { stdin: new PassThrough(), stdout, stderr });
  return { status, stdout: out, stderr: err };
}
