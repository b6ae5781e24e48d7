// inparallel's server examples: every call at once, then at most 3 in flight with waitFor
import { task, waitFor } from 'polytask';

const servers = [
  'alpha.local', 'bravo.local', 'charlie.local', 'delta.local', 'echo.local', 'foxtrot.local',
  'golf.local', 'hotel.local', 'india.local', 'juliet.local', 'kilo.local', 'lima.local',
];
// the function uses imports: a module task (an inline function cannot see this file's imports)
const getOS = task({ module: new URL('./get-os.mjs', import.meta.url), name: 'getOS' });

// every call at once; waitFor yields each future as it completes and removes it from the array
const activeFutures = servers.map((server) => getOS(server));
const all = [];
for await (const future of waitFor(activeFutures)) all.push(future.result());
console.log(all.length, 'answers;', activeFutures.length, 'left in the array');

// concurrency 3: waitFor also yields undefined when fewer than 3 are in flight
const queue = [...servers];
const inFlight = [];
let most = 0;
for await (const future of waitFor(inFlight, 3)) {
  if (future === undefined) {
    if (queue.length > 0) inFlight.push(getOS(queue.shift()));   // one new call per undefined
    most = Math.max(most, inFlight.length);
  } else {
    console.log(future.result());
  }
}
console.log('never more than', most, 'in flight');
