// inparallel's first example: a function whose calls run elsewhere and return futures
import { task } from 'polytask';

// @task def say_hello(to): ...  becomes  task(fn): each call runs in a worker thread
const sayHello = task(async (to) => {
  await new Promise((resolve) => setTimeout(resolve, 300));   // ms, not seconds
  return `Hello, ${to}!`;
});

const helloFuture = sayHello('Emily');   // a Future, at once
console.log(helloFuture.state);          // pending or running
console.log(await helloFuture);          // hello_future.wait(); hello_future.result()
console.log(helloFuture.result());       // once done, result() does not wait
