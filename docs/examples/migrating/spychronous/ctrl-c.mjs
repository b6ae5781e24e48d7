// spychronous's Ctrl-C handling: one Ctrl-C ends every worker within a second; the call
// rejects with an AbortError, the finally block runs, one line goes to stderr, and the
// process exits with 130 (no catch needed)
import { SynchronousJob } from 'polytask';

const printItem = async (item) => {
  await new Promise((resolve) => setTimeout(resolve, item * 1000));
  console.log(new Date().toISOString().slice(11, 19), item);
};
const printingJob = new SynchronousJob({ func: printItem, items: [30, 40, 50] });
console.log('running: press Ctrl-C');
try {
  await printingJob.runMultiProcessed();
} finally {
  console.log(new Date().toISOString().slice(11, 19), 'user issued Ctrl-C');
}
