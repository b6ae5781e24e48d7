import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { callLine, decimal, readResultHead } from '../../src/protocol/messages.js';

const read = (line: string) => {
  const head = { id: -1, exit: -1, restAt: -1 };
  return readResultHead(line, head) ? { ...head, rest: line.slice(head.restAt) } : undefined;
};

test('a result line is read up to its other fields without a parse', () => {
  assert.equal(read('{"type":"result","id":17,"exit":0,"value":42,"stdout":"","stderr":""}'), { id: 17, exit: 0, restAt: 34, rest: '"value":42,"stdout":"","stderr":""}' });
  assert.equal(read('{"type":"result","id":3,"exit":-2,"error":{}}')?.exit, -2);
  assert.equal(read('{"type":"result","id":9007199254740,"exit":124,"stdout":""}')?.id, 9007199254740);
  // the rest is what the CLI copies out: parsing it back gives the fields
  const line = '{"type":"result","id":5,"exit":1,"error":{"name":"E","message":"m"},"stdout":"a\\n","stderr":""}';
  const { type, id, exit, ...fields } = JSON.parse(line) as Record<string, unknown>;
  assert.equal(JSON.parse(`{${read(line)!.rest}`), fields);
  assert.equal([type, id, exit], ['result', 5, 1]);
});

test('any other line is left to the full JSON parse', () => {
  for (const line of [
    '{"type":"ready","pid":1}',
    '{"type":"exiting","id":4}',
    '{"type":"result","exit":0,"id":1,"value":1}', // another order
    '{"type":"result","id":,"exit":0,"value":1}',
    '{"type":"result","id":1,"exit":,"value":1}',
    '{"type":"result","id":1,"exit":-,"value":1}',
    '{"type":"result","id":1,"exit":0}', // no field after exit
    '{"type":"result","id":1,"exit":0, "value":1}',
    '{"type":"result","id":1.5,"exit":0,"value":1}',
    '{"type":"result","id":1234567890123456,"exit":0,"value":1}',
    '',
  ]) assert.is(read(line), undefined, line);
});

test('a call line frames the item JSON as it came', () => {
  const line = callLine(7, 2, '{"a":[1,2]}');
  assert.ok(line.endsWith('\n'));
  assert.equal(JSON.parse(line), { type: 'call', id: 7, attempt: 2, data: { a: [1, 2] } });
  assert.equal(JSON.parse(callLine(1234567, 1, 'null')).id, 1234567);
});

test('decimal writes a number as a template literal would', () => {
  const numbers = [0, 7, 10, 999, 1000, 1001, 10_000, 65_536, 999_999, 1_000_000, 1_000_001, 1_234_567, 2 ** 31, 9_007_199_254_740_991, -3, 1.5, 2 ** 60];
  for (const n of numbers) assert.is(decimal(n), `${n}`);
  for (let n = 0; n < 1_100_000; n += 997) assert.is(decimal(n), `${n}`);
});

test.run();
