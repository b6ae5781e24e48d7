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
    for (const block of splitter.push(bytes.subarray(from, to))) blocks.push(block.toString('utf8'));
    from = to;
  }
  assert.equal(blocks, ['{"a":"é"}\n', '{"b":"€"}\n']);
  assert.is(splitter.end()?.toString('utf8'), '{"c":1}');
  assert.is(splitter.end(), undefined);
});

test('LineBlockSplitter: a chunk with no line end gives nothing until one comes', () => {
  const splitter = new LineBlockSplitter();
  assert.equal(splitter.push(Buffer.from('ab')), []);
  assert.equal(splitter.push(Buffer.from('cd')), []);
  assert.equal(splitter.push(Buffer.from('\n')).map(String), ['abcd\n']);
  assert.is(splitter.end(), undefined);
});

test('LineBlockSplitter: the line begun before a chunk is joined on its own; the whole lines after it are not copied', () => {
  const splitter = new LineBlockSplitter();
  assert.equal(splitter.push(Buffer.from('{"a":1}\n{"b"')).map(String), ['{"a":1}\n']);
  const chunk = Buffer.from(':2}\n{"c":3}\n{"d":4}\n{"e"');
  const blocks = splitter.push(chunk);
  assert.equal(blocks.map(String), ['{"b":2}\n', '{"c":3}\n{"d":4}\n']);
  assert.is(blocks[1]!.buffer, chunk.buffer, 'a part of the chunk read');
  assert.equal(splitter.push(Buffer.from('\n')).map(String), ['{"e"\n']);
  assert.equal(splitter.push(Buffer.from('{"f":6}\n')).map(String), ['{"f":6}\n']);
  assert.is(splitter.end(), undefined);
});

test.run();
