// spychronous's Cat example. Items are copied into the worker thread by structured clone:
// own fields survive, the class (its methods) does not.
import { SynchronousJob } from 'polytask';

class Cat {
  constructor(name) {
    this.name = name;
  }
  meow() {
    return `meow, my name is ${this.name}`;
  }
}
const dave = new Cat('Dave');

// a class instance arrives as a plain object: cat.meow is undefined in the worker
const broken = new SynchronousJob({ func: (cat) => cat.meow(), items: [dave] });
await broken.runMultiProcessed().catch((error) => console.log(`${error.name}: ${error.message}`));

// either send the data and do the work in the function...
const makeCatMeow = (cat) => `meow, my name is ${cat.name}`;
console.log(await new SynchronousJob({ func: makeCatMeow, items: [dave] }).runMultiProcessed());

// ...or use a module task, which imports the class in the worker and can rebuild the object
const fromModule = { module: new URL('./cat.mjs', import.meta.url), name: 'makeCatMeow' };
console.log(await new SynchronousJob({ func: fromModule, items: [dave] }).runMultiProcessed());
