// BullMQ and ioredis, loaded on first use: `import('./libraries.js')`. A run without Redis never
// loads them (they take about 0.3 s to load), and the CLI's bundle (npm run build) puts them with
// this module in a chunk of their own, loaded from one file instead of hundreds.
export { Queue, WaitingError, Worker } from 'bullmq';
export { Redis } from 'ioredis';
