// Keep the function in Python: a job spec as func runs it in Python children. Items and
// return values travel as JSON, not pickle.
import { SynchronousJob, resolveSpec } from 'polytask';

const job = {
  exec_type: 'python3',
  exec_info: {
    code: `
def double_num(num, context):
    return (num, num * 2)          # a tuple comes back as an array

def by_key(num, context):
    return {num: 'even' if num % 2 == 0 else 'odd'}   # int keys come back as strings

def as_set(num, context):
    return {num}                   # a set cannot be JSON: the item fails
`,
  },
};
const doubleNum = resolveSpec(job, { handler: 'double_num' });   // handler: which function
console.log(await new SynchronousJob({ func: doubleNum, items: [5, 6] }).runMultiProcessed());

const byKey = resolveSpec(job, { handler: 'by_key' });
console.log(await new SynchronousJob({ func: byKey, items: [5, 6] }).runMultiProcessed());

const asSet = resolveSpec(job, { handler: 'as_set' });
await new SynchronousJob({ func: asSet, items: [5] }).runMultiProcessed()
  .catch((error) => console.log(`${error.name} (${error.type}): ${error.message}`));
