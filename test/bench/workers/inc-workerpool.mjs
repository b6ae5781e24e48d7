// The futures benchmark's work for workerpool: a dedicated worker registering `inc`, called
// with pool.exec('inc', [x]). workerpool starts it as a worker thread, which may be an ES module.
import workerpool from 'workerpool';

workerpool.worker({ inc: (x) => x + 1 });
