import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { readJsonLines, firstInvalidByte } from '../../src/cli/input.js';
import { bin, fixture, timed } from '../helpers.js';

// Every item read from `chunks` (each fed to the reader as it is): [line, text, error message]
async function read(chunks: (string | number[])[]): Promise<[number, string, string | undefined][]> {
  const out: [number, string, string | undefined][] = [];
  const stream = Readable.from(chunks.map((c) => Buffer.from(c as string)));
  for await (const items of readJsonLines(stream)) for (const i of items) out.push([i.line, i.text, i.error?.message]);
  return out;
}

test('only JSON whitespace is blank: a line of any other space is an item with a ParseError', async () => {
  const others = ['\u00a0', '\u2028', '\u3000', '\v', '\f', '\ufeff', '\u2029', '\u0085', '\u00a0 5'];
  const items = await read([`1\n \t\r\n\n${others.join('\n')}\n2\n`]);
  assert.equal(items.map(([line, text]) => [line, text]), [[1, '1'], ...others.map((text, k) => [k + 4, text]), [others.length + 4, '2']]);
  for (const [line, , error] of items.slice(1, -1)) assert.match(error ?? '', `line ${line}: invalid JSON`);
  assert.is(items[0]![2], undefined);
  assert.is(items.at(-1)![2], undefined);
});

test("the file's leading BOM is stripped, even split across chunks; a BOM on a later line is not", async () => {
  const items = await read([[0xef], [0xbb, 0xbf, 0x31, 0x0a], '\ufeff2\n3']);
  assert.equal(items.map(([line, text]) => [line, text]), [[1, '1'], [2, '\ufeff2'], [3, '3']]);
  assert.equal(items.map(([, , error]) => error === undefined), [true, false, true]);
  assert.match(items[1]![2]!, 'line 2: invalid JSON');
});

test('invalid UTF-8 is a ParseError naming the byte offset, in the line and in the input', async () => {
  // line 2 is `"a` then a lone 0xc3 (a two-byte lead with no continuation) then `"`; the
  // bytes come in chunks that cut the line and the BOM
  const bytes = [0xef, 0xbb, 0xbf, 0x31, 0x0a, 0x22, 0x61, 0xc3, 0x22, 0x0d, 0x0a, 0x33];
  const items = await read([bytes.slice(0, 2), bytes.slice(2, 8), bytes.slice(8)]);
  assert.equal(items.map(([line, text]) => [line, text]), [[1, '1'], [2, '"a\ufffd"'], [3, '3']]);
  assert.is(items[1]![2], 'line 2: invalid JSON: invalid UTF-8 at byte offset 2 of the line (7 of the input)');
  assert.is(items[0]![2], undefined);
  assert.is(items[2]![2], undefined);
  // a bad last line with no newline, and a bad line inside a block of good ones
  const last = await read(['1\n', [0x32, 0xff]]);
  assert.is(last[1]![2], 'line 2: invalid JSON: invalid UTF-8 at byte offset 1 of the line (3 of the input)');
  const many = await read([[...Buffer.from('"x"\n'.repeat(1000)), 0x22, 0xed, 0xa0, 0x80, 0x22, 0x0a, ...Buffer.from('"y"\n')]]);
  assert.is(many.length, 1002);
  assert.is(many.filter((i) => i[2] !== undefined).length, 1);
  assert.is(many[1000]![2], 'line 1001: invalid JSON: invalid UTF-8 at byte offset 1 of the line (4001 of the input)');
});

test('valid multi-byte characters cut across chunks, one byte at a time, are read whole', async () => {
  const text = '"é"\n"€"\n"𝄞"\n{"k": "ü"}';
  const items = await read([...Buffer.from(text)].map((b) => [b]));
  assert.equal(items, [[1, '"é"', undefined], [2, '"€"', undefined], [3, '"𝄞"', undefined], [4, '{"k": "ü"}', undefined]]);
});

test('firstInvalidByte agrees with the strict decoder on overlongs, surrogates and truncations', () => {
  const cases: [number[], number][] = [
    [[0x61, 0x62], -1], [[0xc3, 0xa9], -1], [[0xe2, 0x82, 0xac], -1], [[0xf0, 0x9d, 0x84, 0x9e], -1],
    [[0x61, 0xc0, 0x80], 1], [[0xe0, 0x80, 0x80], 0], [[0xed, 0xa0, 0x80], 0], [[0xf4, 0x90, 0x80, 0x80], 0],
    [[0x61, 0x62, 0xe2, 0x82], 2], [[0x80], 0], [[0xf5, 0x80, 0x80, 0x80], 0], [[0x61, 0xc3, 0x61], 1],
  ];
  const strict = new TextDecoder('utf-8', { fatal: true });
  for (const [bytes, at] of cases) {
    assert.is(firstInvalidByte(Uint8Array.from(bytes)), at, bytes.join(','));
    let valid = true;
    try {
      strict.decode(Uint8Array.from(bytes));
    } catch {
      valid = false;
    }
    assert.is(valid, at === -1, bytes.join(','));
  }
});

test('polytask run: a line of U+00A0 and a line of bad UTF-8 each get an exit 65 result; status 1', timed(20_000, async () => {
  const input = Buffer.concat([Buffer.from('"a"\n\u00a0\n\u3000\n'), Buffer.from([0x22, 0xff, 0x22, 0x0a]), Buffer.from('"b"\n')]);
  const r = spawnSync(process.execPath, [bin, 'run', '-s', fixture('specs/node.json'), '--keep-order'], { input, encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 1, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { line: number; exit: number; error?: { name: string; message: string } });
  assert.equal(lines.map((l) => [l.line, l.exit]), [[1, 0], [2, 65], [3, 65], [4, 65], [5, 0]]);
  assert.equal(lines[3]!.error, { name: 'ParseError', message: 'line 4: invalid JSON: invalid UTF-8 at byte offset 1 of the line (12 of the input)' });
  assert.match(r.stderr, '3 of 5 items failed');
}));

test.run();
