// The producer's blocks of input lines (remote/blocks.ts): each line answered once whatever
// comes twice, the lines of a job gone without their results sent again as one more attempt
// (and failed after timing.lostLimit losses), and a stop answering what is left. The jobs are
// taken as the Sender would take them (its addJob), to look at what would go to Redis.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RawResult } from '../../src/pool/items.js';
import { cancelled } from '../../src/pool/process/call.js';
import { Block, joinLines, type BlockOwner } from '../../src/remote/block.js';
import { BlockFlight } from '../../src/remote/blocks.js';
import { timing } from '../../src/remote/keys.js';
import { RemoteStats } from '../../src/remote/stats.js';
import { wholeHead } from '../../src/remote/wire.js';

interface Sent {
  id: string;
  numbers: { first: number; line?: number } | { ids: number[] };
  items: string;
}

function setup() {
  const sent: Sent[] = [];
  const answers: { line: number; text: string; result: RawResult }[] = [];
  const whole: { text: string; count: number; failed: number; returned: number }[] = [];
  let settled = 0;
  const owner: BlockOwner = {
    answered: (line, text, result) => answers.push({ line, text, result }),
    answeredOk: (line, text, attempts, rest) => answers.push({ line, text, result: { exit: 0, rest: rest.bytes.toString('utf8', rest.start, rest.end), attempts } }),
    answeredLines: (bytes, count, failed, returned) => whole.push({ text: bytes.toString(), count, failed, returned }),
    settled: () => settled++,
  };
  const stats = new RemoteStats();
  const flight = new BlockFlight(stats, (numbers, items) => {
    const id = `job-${sent.length + 1}`;
    sent.push({ id, numbers, items });
    return id;
  });
  return { sent, answers, whole, owner, flight, stats, settled: () => settled };
}

test('each line is answered once, with its line number and text; a duplicate is dropped', () => {
  const { sent, answers, owner, flight, settled } = setup();
  // item numbers 10-12 and 13-14, input lines with a blank one skipped
  const first = new Block(10, joinLines(['{"a":1}', '{"b":2}', '[3]'], [1, 2, 4]), owner);
  const second = new Block(13, joinLines(['"x"', '5'], [5, 6]), owner);
  for (const block of [first, second]) {
    flight.add(block);
    flight.send(block);
  }
  assert.equal(sent.map((job) => [job.numbers, job.items]), [[{ first: 10 }, '{"a":1}\n{"b":2}\n[3]'], [{ first: 13 }, '"x"\n5']]);
  assert.is(flight.size, 5);
  assert.is(flight.answer(14, 0, '"value":5}', false, 0), true);
  assert.is(flight.answer(11, 1, '"error":{}}', false, 0), true);
  assert.is(flight.answer(11, 0, '"value":2}', false, 0), false, 'a duplicate');
  assert.is(flight.answer(9, 0, '}', false, 0), undefined, 'no block holds it');
  flight.settle();
  assert.is(settled(), 1);
  assert.equal(answers.map((a) => [a.line, a.text, a.result.exit, a.result.attempts]), [[6, '5', 0, 1], [2, '{"b":2}', 1, 1]]);
  for (const id of [10, 12, 13]) flight.answer(id, 0, '}', id === 12, 0);
  assert.is(flight.size, 0);
  assert.equal(answers.slice(2).map((a) => [a.line, a.text, a.result.fromReturn === true]), [[1, '{"a":1}', false], [4, '[3]', true], [5, '"x"', false]]);
  // answered in full: later duplicates still find nothing to answer
  assert.is(flight.answer(12, 0, '}', false, 0) ?? false, false);
  flight.sweep();
  assert.is(flight.jobs.size, 0);
});

test('the lines of a job gone without their results go again, as one more attempt; too many losses fail the line', () => {
  const { sent, answers, owner, flight, stats } = setup();
  const block = new Block(1, joinLines(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'], [1, 2, 3, 4]), owner);
  flight.add(block);
  flight.send(block);
  flight.answer(2, 0, '}', false, 0);
  // seen gone, but results written before it may still be unread (read up to a time before): nothing yet
  assert.equal(flight.lost(['job-1'], 0), []);
  // once everything written up to a time after it is read
  const lost = flight.lost(['job-1'], Date.now() + 1000);
  assert.equal(lost.map((line) => line.index), [0, 2, 3]);
  flight.sendAgain(lost);
  assert.equal(sent[1], { id: 'job-2', numbers: { ids: [1, 3, 4] }, items: '{"n":1}\n{"n":3}\n{"n":4}' });
  // sent twice, and run twice by the worker the second time (its child died under it): 3 runs
  flight.answer(3, 0, '}', false, 1);
  assert.equal(answers.at(-1)!.result.attempts, 3);
  assert.is(stats.snapshot().crashes, 3);
  // line 1 and 4, lost again and again: after lostLimit + 1 losses they fail
  for (let loss = 2; loss <= timing.lostLimit + 1; loss++) {
    const jobId = sent.at(-1)!.id;
    const again = flight.lost([jobId], Date.now() + 1000);
    assert.equal(again.map((line) => line.index), [0, 3]);
    flight.sendAgain(again);
  }
  assert.is(flight.size, 0);
  const failed = answers.filter((a) => a.result.exit !== 0);
  assert.equal(failed.map((a) => a.line), [1, 4]);
  assert.match(failed[0]!.result.rest, /"name":"WorkerExitedError"/);
});

test('a stop answers every line left, once', () => {
  const { answers, owner, flight, settled } = setup();
  const block = new Block(1, joinLines(['1', '2', '3'], [1, 2, 3]), owner);
  flight.add(block);
  flight.send(block);
  flight.answer(2, 0, '}', false, 0);
  flight.answerAll(flight.unanswered(), cancelled('stopped'));
  assert.equal(answers.map((a) => [a.line, a.result.exit]), [[2, 0], [1, cancelled('stopped').exit], [3, cancelled('stopped').exit]]);
  assert.is(flight.size, 0);
  assert.is(settled(), 1);
  assert.equal(flight.unanswered(), []);
});

test('many blocks: each result finds its own, and answered blocks are let go', () => {
  const { answers, owner, flight } = setup();
  let id = 1;
  for (let b = 0; b < 300; b++) {
    const texts = Array.from({ length: 1 + (b % 7) }, (_, i) => `${b * 10 + i}`);
    const block = new Block(id, joinLines(texts, texts.map((_, i) => b * 10 + i + 1)), owner);
    id += texts.length;
    flight.add(block);
  }
  // answered from the last to the first
  for (let n = id - 1; n >= 1; n--) assert.is(flight.answer(n, 0, '}', false, 0), true);
  assert.is(flight.size, 0);
  assert.is(answers.length, id - 1);
  for (const a of answers) assert.is(Number(a.text) + 1, a.line);
});

test('output lines that come whole answer their lines at once; a duplicate or a line lost before goes line by line', () => {
  const { sent, answers, whole, owner, flight, stats } = setup();
  // input lines 5 to 8, numbered from the first (as a block read whole: cli/run-remote.ts)
  const block = new Block(1, { ...joinLines(['{"n":1}', '{"n":2}', '{"n":3}', '"\u00e9"'], [5, 6, 7, 8]), lines: 5 }, owner);
  flight.add(block);
  flight.send(block);
  // lines that follow one another: the worker gets the first one's input line number
  assert.equal(sent[0]!.numbers, { first: 1, line: 5 });
  const out = (line: number, data: string, exit = 0, attempts = 1) => `{"line":${line},"data":${data},"exit":${exit},"attempts":${attempts},"stdout":"","stderr":""}\n`;
  const run = (first: number, count: number, failed: number, text: string) => Buffer.from(wholeHead(first, count, failed, 0, Buffer.byteLength(text)) + text);
  flight.answerWhole(run(1, 2, 1, out(5, '{"n":1}') + out(6, '{"n":2}', 1)));
  assert.equal(whole, [{ text: out(5, '{"n":1}') + out(6, '{"n":2}', 1), count: 2, failed: 1, returned: 0 }]);
  assert.is(flight.size, 2);
  // a duplicate of lines 2-3 (a job run again after a stall): only line 3 is answered, from its own fields
  flight.answerWhole(run(2, 2, 0, out(6, '{"n":2}') + out(7, '{"n":3}')));
  assert.is(whole.length, 1);
  assert.equal(answers.map((a) => [a.line, a.text, a.result.exit, a.result.attempts, a.result.rest]), [[7, '{"n":3}', 0, 1, '"stdout":"","stderr":""}']]);
  // a line lost and sent again: its attempts are the producer's, so it goes line by line too
  flight.sendAgain(flight.lost(['job-1'], Date.now() + 1000));
  assert.equal(sent[1]!.numbers, { ids: [4] });
  flight.answerWhole(run(4, 1, 1, out(8, '"\u00e9"', 2, 2)));
  assert.equal(answers.at(-1)!.result, { exit: 2, rest: '"stdout":"","stderr":""}', attempts: 3 });
  assert.is(flight.size, 0);
  // lines no block holds any more
  flight.answerWhole(run(1, 1, 0, out(5, '{"n":1}')));
  assert.is(whole.length + answers.length, 3);
  assert.is(stats.snapshot().done, 4);
  assert.is(stats.snapshot().failed, 2);
});

test.run();
