import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineBlockSplitter, LineSplitter } from '../../src/protocol/lines.js';

test('LineSplitter: lines cut across chunks come whole, the tail waits for the end', () => {
  const splitter = new LineSplitter();
  assert.equal(splitter.push('a\nb'), ['a']);
  assert.equal(splitter.push('c'), []);
  assert.equal(splitter.push('d\n\ne\n'), ['bcd', '', 'e']);
  assert.equal(splitter.push('last'), []);
  assert.is(splitter.end(), 'last');
  assert.is(splitter.end(), '');
});

test('LineBlockSplitter: whole lines as one block, a character cut between chunks joined again', () => {
  const splitter = new LineBlockSplitter();
  const bytes = Buffer.from('{"a":"é"}\n{"b":"€"}\n{"c":1}');
  // cut inside the two bytes of é, then inside the three of €
  const cuts = [7, 17, 19, bytes.length];
  const blocks: string[] = [];
  let from = 0;
  for (const to of cuts) {
    const block = splitter.push(bytes.subarray(from, to));
    if (block !== undefined) blocks.push(block.toString('utf8'));
    from = to;
  }
  assert.equal(blocks, ['{"a":"é"}\n', '{"b":"€"}\n']);
  assert.is(splitter.end()?.toString('utf8'), '{"c":1}');
  assert.is(splitter.end(), undefined);
});

test('LineBlockSplitter: a chunk with no line end gives nothing until one comes', () => {
  const splitter = new LineBlockSplitter();
  assert.is(splitter.push(Buffer.from('ab')), undefined);
  assert.is(splitter.push(Buffer.from('cd')), undefined);
  assert.is(splitter.push(Buffer.from('\n'))?.toString(), 'abcd\n');
  assert.is(splitter.end(), undefined);
});

test.run();
