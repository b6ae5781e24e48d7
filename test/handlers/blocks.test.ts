// Protocol version 2 at the protocol level, on each bundled handler: `init` says the parent
// speaks it, `ready` says the child does, and `calls` blocks (a head, then one item's JSON text
// per line) are answered one result per item, with the ids and attempt the head gives, each
// item's own output, a ParseError for an item line that is not JSON, and blocks longer than a
// read. Without `protocol` in init a handler stays at version 1.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { resolveSpec } from '../../src/spec/load.js';
import { availableRuntimes } from '../runtimes.js';
import { timed } from '../helpers.js';

const code: Record<string, string> = {
  node: 'export const main = (e, c) => { console.log("saw " + JSON.stringify(e)); return [e, c.itemId, c.attempt]; };',
  python: 'import json\ndef main(e, c):\n    print("saw " + json.dumps(e, separators=(",", ":"), sort_keys=True))\n    return [e, c.item_id, c.attempt]\n',
};

interface Message { type: string; id?: number; exit?: number; value?: unknown; error?: { name: string; message: string }; stdout?: string; protocol?: number }

// Runs a handler over `lines` (after init) to the end of its input; its messages and exit status
async function converse(name: 'node' | 'python3' | 'python2', protocol: number | undefined, lines: string[]): Promise<{ messages: Message[]; status: number | null }> {
  const { launch } = resolveSpec({ exec_type: name, exec_info: { code: 'unused' } });
  const child = spawn(launch.command, launch.args, { stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'] });
  const toChild = child.stdio[3] as Writable;
  let text = '';
  (child.stdio[4] as Readable).setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const init = { type: 'init', worker_id: 0, code: { type: 'string', data: code[name === 'node' ? 'node' : 'python'] }, handler: 'main', setup_hook: null, ...(protocol === undefined ? {} : { protocol }) };
  toChild.end([JSON.stringify(init), ...lines].join('\n') + '\n');
  // 'close': the child has exited and its fd 4 is read to the end
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { messages: text.trim().split('\n').map((line) => JSON.parse(line) as Message), status };
}

const head = (id: number, attempt: number, count: number) => JSON.stringify({ type: 'calls', id, attempt, count });

for (const runtime of availableRuntimes()) {
  const name = runtime.name;
  const blocks = suite(`protocol version 2 on the ${name} handler`);

  blocks('calls blocks: one result per item, with the head\'s ids and attempt, its own output, a ParseError for a line that is not JSON', timed(30_000, async () => {
    const long = 'x'.repeat(100);
    const many = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ n: i, pad: long }));
    const { messages, status } = await converse(name, 2, [
      head(10, 2, 3), '1', ' {"a": [true, null]} ', '"text é"',
      JSON.stringify({ type: 'call', id: 20, attempt: 1, data: 'a version 1 call' }),
      head(21, 1, 2), '21', '{"a":',
      head(100, 1, many.length), ...many,
    ]);
    assert.is(status, 0);
    assert.is(messages[0]!.type, 'ready');
    assert.is(messages[0]!.protocol, 2);
    const results = new Map<number, Message>();
    for (const m of messages.slice(1)) {
      assert.is(m.type, 'result');
      assert.not.ok(results.has(m.id!), `one result for id ${m.id}`);
      results.set(m.id!, m);
    }
    assert.is(results.size, 3 + 1 + 2 + many.length);
    assert.equal(results.get(10)!.value, [1, 10, 2]);
    assert.equal(results.get(11)!.value, [{ a: [true, null] }, 11, 2]);
    assert.equal(results.get(12)!.value, ['text é', 12, 2]);
    assert.is(results.get(12)!.stdout, name === 'node' ? 'saw "text é"\n' : 'saw "text \\u00e9"\n'); // json.dumps escapes it
    assert.equal(results.get(20)!.value, ['a version 1 call', 20, 1]);
    assert.equal(results.get(21)!.value, [21, 21, 1]);
    const bad = results.get(22)!;
    assert.is(bad.exit, 65);
    assert.is(bad.error?.name, 'ParseError');
    assert.match(bad.error!.message, 'not valid JSON');
    for (let i = 0; i < many.length; i++) {
      const r = results.get(100 + i)!;
      assert.equal(r.value, [{ n: i, pad: long }, 100 + i, 1]);
      assert.is(r.stdout, `saw ${many[i]}\n`);
    }
  }));

  blocks('without `protocol` in init the handler speaks version 1', timed(30_000, async () => {
    const { messages, status } = await converse(name, undefined, [JSON.stringify({ type: 'call', id: 1, attempt: 1, data: 5 })]);
    assert.is(status, 0);
    assert.is(messages[0]!.protocol ?? 1, 1);
    assert.equal(messages[1]!.value, [5, 1, 1]);
  }));

  blocks.run();
}
