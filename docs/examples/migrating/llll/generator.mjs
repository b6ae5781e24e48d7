// llll's MultithreadedGenerator(f, ncpu=4): keep 4 calls of f running and take results as
// they come. waitFor with a concurrency does the same.
import { task, waitFor } from 'polytask';

const garbage = task(async () => {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return Math.random();
}, { concurrency: 4 });

async function* generate(fn, ncpu) {
  const inFlight = [];
  for await (const future of waitFor(inFlight, ncpu)) {
    if (future === undefined) inFlight.push(fn());   // always refill: this loop never ends by itself
    else yield future.result();
  }
}

let count = 0;
for await (const value of generate(garbage, 4)) {          // mg.get(), 7 times
  if (typeof value === 'number') count++;
  if (count === 7) break;
}
console.log(count, 'values');
await garbage.close();
