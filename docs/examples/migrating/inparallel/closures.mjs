// fork() gave inparallel's tasks the whole program: globals, closures, imports. An inline
// task here is sent to the worker as source text, alone.
import { task } from 'polytask';

const multiplier = 3;
const scaled = task((x) => x * multiplier);   // uses a variable of this file
try {
  await scaled(2);
} catch (error) {
  console.log(error.message.split(':')[0]);   // the task function refers to `multiplier` from its enclosing scope
}

// pass it as an argument...
const scaledBy = task((x, by) => x * by);
console.log(await scaledBy(2, multiplier));   // 6

// ...and import inside the function (or use a module task, see servers.mjs)
const hostname = task(async () => (await import('node:os')).hostname());
console.log((await hostname()) === (await import('node:os')).hostname());   // true

// a method is not a function expression: it has no source that compiles alone
const counter = { n: 1, next() { return this.n + 1; } };
try {
  await task(counter.next)();
} catch (error) {
  console.log(error.name);                    // SyntaxError: pass an arrow function, or use a module task
}
