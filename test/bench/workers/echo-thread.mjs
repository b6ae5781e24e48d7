// The futures suite's limit: a bare worker thread answering each message [id, x] with
// [id, x + 1], one message per call, no batching.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', ([id, x]) => parentPort.postMessage([id, x + 1]));
