// Messages on stderr come second to the results: a stderr that cannot be written (a full disk,
// a reader that went away, a closed descriptor) must not stop the run or cost a result.
import type { Writable } from 'node:stream';

const guarded = new WeakSet<Writable>();

// Keeps a failing stderr from ending the process: its first write error (EPIPE, ENOSPC, EBADF)
// would otherwise be an uncaught 'error' event. The stream then ends; later writes to it are
// dropped (their callbacks get ERR_STREAM_DESTROYED, and no further 'error' is emitted).
export function tolerateFailingStderr(stderr: Writable): void {
  if (guarded.has(stderr)) return;
  guarded.add(stderr);
  stderr.on('error', () => {
    if (!stderr.destroyed) stderr.destroy();
  });
}
