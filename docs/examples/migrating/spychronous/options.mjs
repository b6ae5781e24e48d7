// spychronous's options: processes, timeout (in ms here, seconds there) and suppressed failures
import { SynchronousJob } from 'polytask';

const work = async (item) => {
  if (item === 'boom') throw new RangeError(`bad item ${item}`);
  if (item === 'stuck') await new Promise(() => {});   // never ends
  return item.toUpperCase();
};
const job = new SynchronousJob({
  func: work,
  items: ['a', 'boom', 'stuck', 'b'],
  processes: 20,                   // spychronous: processes=20 (default 4 in both)
  timeout: 5 * 1000,               // spychronous: timeout=5 (seconds); here ms, per item
  suppressWorkerExceptions: true,  // spychronous: suppress_worker_exceptions=True
  logger: (message) => console.log(`logged: ${message}`),   // default: stderr
});
console.log(await job.runMultiProcessed());   // a failed item's slot holds undefined (spychronous: None)
for (const { index, item, error } of job.errors) console.log(index, item, error.name);
