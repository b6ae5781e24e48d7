// A module task's module: it is imported in each worker, so its imports work there
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

// inparallel's getOS(server): here a local `uname -s` stands in for the ssh session
export async function getOS(server) {
  const { stdout } = await run('uname', ['-s']);
  return `${server}: ${stdout.trim()}`;
}
