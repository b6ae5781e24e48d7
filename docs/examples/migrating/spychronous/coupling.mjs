// spychronous's "coupling output to input". A tuple becomes an array; and since the results
// come back in input order, the coupling is often not needed at all.
import { SynchronousJob } from 'polytask';

const doubleNum = (num) => [num, num * 2];
console.log(await new SynchronousJob({ func: doubleNum, items: [5] }).runMultiProcessed());   // [ [ 5, 10 ] ]

const items = [5, 6];
const doubled = await new SynchronousJob({ func: (num) => num * 2, items }).runMultiProcessed();
console.log(items.map((num, i) => [num, doubled[i]]));   // [ [ 5, 10 ], [ 6, 12 ] ]
