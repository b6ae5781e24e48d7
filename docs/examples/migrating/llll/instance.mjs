// llll's PythonInstance: a Python program to exchange values with. Values are JSON, not pickle.
import { Instance } from 'polytask';

const pi = await Instance.python(`
from polytask_child import parent     # llll: from llll import sbc; sbc = sbc()
while True:
    obj = parent.recv()
    if obj == 'stop':
        parent.send('ok, stopped')
        break
    elif isinstance(obj, str):
        print(obj + '!')
    else:
        parent.send({'got': obj, 'as': type(obj).__name__, 'pair': (1, 2)})
`);
pi.send('hello');
pi.send([1, 2]);        // a JavaScript array arrives as a list
console.log(await pi.recv());   // { got: [ 1, 2 ], as: 'list', pair: [ 1, 2 ] }: a tuple comes back as an array
pi.send({ 1: 'a' });    // object keys are strings on both sides
console.log(await pi.recv());   // { got: { '1': 'a' }, as: 'dict', pair: [ 1, 2 ] }
pi.send('stop');
console.log(await pi.recv());   // ok, stopped
await pi.wait();                // pi.join()
