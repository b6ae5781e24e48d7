// Instance: exchange JSON values with a child Python (2.7 or 3) or Node program
import { Instance } from 'polytask';

const py = await Instance.python(`
from polytask_child import parent
while True:
    obj = parent.recv()
    if obj == 'stop':
        parent.send('ok, stopped'); break
    print(obj + '!')
`);
py.send('hello');
py.send('stop');
console.log(await py.recv());      // 'ok, stopped' (and the child printed 'hello!')
await py.wait();

const js = await Instance.node(`
  import { parent } from 'polytask/child';
  const { a, b } = await parent.recv();
  parent.send({ sum: a + b });
`);
js.send({ a: 1, b: 2 });
console.log(await js.recv());      // { sum: 3 }
await js.close();
