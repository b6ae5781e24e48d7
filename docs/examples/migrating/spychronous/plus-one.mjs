// spychronous's first examples: a loop made parallel, extra arguments, and the single-process run
import { SynchronousJob } from 'polytask';

const getPlusOne = (num) => num + 1;
const plusOneJob = new SynchronousJob({ func: getPlusOne, items: [1, 2, 3] });
console.log(await plusOneJob.runMultiProcessed());     // [ 2, 3, 4 ]

// func(item, ...args); the results come back in input order (spychronous: completion order)
const getNumber = async (item, multiplier) => {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 50));   // variable speed
  return item * multiplier;
};
const numbersJob = new SynchronousJob({ func: getNumber, items: [1, 2, 3], args: [2] });
console.log(await numbersJob.runMultiProcessed());     // [ 2, 4, 6 ]

// the same function, called in this process one item after the other: breakpoints work
console.log(await numbersJob.runSingleProcessed());    // [ 2, 4, 6 ]
