// cancel(): in Python a running future cannot be cancelled (cancel() returns False); here the
// call is stopped: its worker is ended and replaced, and the call never finishes its work
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { task } from 'polytask';

const marker = path.join(tmpdir(), `polytask-cancel-${process.pid}`);
const slowWrite = task(async (file) => {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const { writeFileSync } = await import('node:fs');   // an inline task imports inside its body
  writeFileSync(file, 'done');
  return 'written';
}, { concurrency: 1 });

const future = slowWrite(marker);
while (!future.running()) await new Promise((resolve) => setTimeout(resolve, 10));
console.log(future.state);                   // running: it has started in a worker
console.log(future.cancel(), future.state);  // true cancelled
try {
  await future;
} catch (error) {
  console.log(error.name);                   // CancelledError (result() throws it too)
}
await new Promise((resolve) => setTimeout(resolve, 1500));
console.log('file written:', existsSync(marker));   // false: the work was stopped

const next = slowWrite(marker);              // the pool goes on with a new worker
console.log(await next, next.cancel());      // written false: a finished future cannot be cancelled
rmSync(marker, { force: true });
await slowWrite.close();
