// polytask handler for Node.js: speaks docs/protocol.md on fd 3 (requests) and fd 4
// (responses). Plain JavaScript so that children run it without a build step.
//
// Each call runs handler(event, context) at once, so async handlers overlap; what an item
// writes to process.stdout/stderr (console.log included) is captured for that item
// through AsyncLocalStorage, even while other items are running.
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeFileSync, writeSync, unlinkSync, mkdtempSync, rmdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { pathToFileURL } from 'node:url';

const realExit = process.exit.bind(process);
const workerId = Number(process.env.POLYTASK_WORKER_ID ?? 0);
Error.stackTraceLimit = Math.max(Error.stackTraceLimit, 50);
const capture = new AsyncLocalStorage();
// fd 3 is read into one buffer, used again at every read, and decoded from there: a Buffer of
// its own for each read (the default) is freed only when V8 next collects, and so are the
// ones written below; with little else allocated, that let them pile up to tens of MB
const decoder = new StringDecoder('utf8');
const input = new net.Socket({
  fd: 3, readable: true, writable: false,
  onread: { buffer: Buffer.allocUnsafeSlow(65536), callback: (length, buffer) => void onChunk(decoder.write(buffer.subarray(0, length))) },
});
let handler;
// false when a debugging session runs attached to the terminal (init's `capture`)
let captureOutput = true;
// init's `args`: every call's context.args
let handlerArgs = Object.freeze([]);
let running = 0;
let inputEnded = false;

// Routes writes made during an item into that item's capture buffer
function captureStream(stream, key) {
  const original = stream.write.bind(stream);
  stream.write = (chunk, encoding, callback) => {
    const store = capture.getStore();
    if (store === undefined || !captureOutput) return original(chunk, encoding, callback);
    store[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(done);
    return true;
  };
}
captureStream(process.stdout, 'stdout');
captureStream(process.stderr, 'stderr');

// Responses. When the parent times the items (init's `timeout_ms`), each is written at once:
// the parent blames its oldest unanswered item when one overruns, so a finished item's result
// must not wait behind a stuck one. Without a timeout, the results of the calls of one read
// (and of async calls that settle together) go out together, in writes of up to 64 KB: a
// syscall per item would cost a third of the run. They still leave within about 5 ms, and
// before any exit.
// fd 4 is a blocking descriptor (it is never wrapped in a stream), so a write is whole or waits.
let eager = true;
let outgoing = '';
let outgoingSince = 0;
let flushQueued = false;

// `message`: an object, or the JSON text of one (a result made by resultMessage)
function send(message) {
  const line = typeof message === 'string' ? message : JSON.stringify(message);
  if (eager) {
    writeAll(line + '\n');
    return;
  }
  if (outgoing === '') outgoingSince = performance.now();
  outgoing += line + '\n';
  // out 64 KB at a time: V8 joins a long chain of appended pieces (the results of a whole read,
  // ~300 KB) at about twice the cost per byte of a short one (a fifth of this child's CPU)
  if (outgoing.length >= 65536) writeOutgoing();
  else if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

function flush() {
  flushQueued = false;
  writeOutgoing();
}

function writeOutgoing() {
  for (const block of answering) writeBlock(block);
  if (outgoing !== '') writeAll(takeOutgoing());
}

function takeOutgoing() {
  const text = outgoing;
  outgoing = '';
  return text;
}

// the bytes of what is written, in a buffer used again for every write (see fd 3)
let outBuffer = Buffer.allocUnsafeSlow(262144);
// `fd`: 4, or init's output_fd (the results of `polytask run`, in one write: whole lines from
// this child and others do not mix there)
function writeAll(text, fd = 4) {
  // room for the most bytes the text can take (3 per UTF-16 unit): written in one pass, its
  // length not counted first
  if (3 * text.length > outBuffer.length) outBuffer = Buffer.allocUnsafeSlow(Math.max(3 * text.length, 2 * outBuffer.length));
  const length = outBuffer.write(text, 0);
  let offset = 0;
  try {
    while (offset < length) offset += writeSync(fd, outBuffer, offset, length - offset);
  } catch (error) {
    // the parent is gone (so is what the handler started), or the results cannot be written:
    // the parent runs this child's unanswered lines again, and finds the same when it writes them
    if (fd !== 4) writeSync(2, `polytask: child cannot write the results: ${error.message}\n`);
    signalOwnGroup('SIGKILL');
    realExit(1);
  }
}

function maybeExit() {
  if (inputEnded && running === 0) process.exit(0);
}

// Drops the frames of this file and below, and Node's own (a module that cannot be found has
// nothing else; AsyncLocalStorage.run's, where an item runs inside it): the user wants the
// frames of their own code
function userStack(stack) {
  const lines = stack.split('\n');
  const cut = lines.findIndex((line) => line.includes(import.meta.url));
  return (cut === -1 ? lines : lines.slice(0, cut)).filter((line) => !/^\s+at .*\(?node:(internal\/|async_hooks:)/.test(line)).join('\n');
}

function errorInfo(error) {
  // our own loading errors need no stack: the message says it all
  if (error?.name === 'HandlerNotFoundError') return { name: error.name, message: error.message, stack: '' };
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: userStack(error.stack ?? String(error)) };
  }
  return { name: 'Error', message: String(error), stack: String(error) };
}

// A string as JSON text, without the call for the usual empty output
const jsonText = (text) => (text === '' ? '""' : JSON.stringify(text));

// The fields of an item's result after `exit`, as the JSON text that follows `"exit":<exit>,`
// in a result message (and in `polytask run`'s output line): `{exit, rest, returned}`, with the
// value's text made once (not a message object encoded again). `returned`: the exit is a
// non-zero integer the handler returned.
function returnedFields(value, store) {
  let encoded;
  try {
    encoded = encodeValue(value);
  } catch (error) {
    return serializationFailure(value, error, store);
  }
  const exit = Number.isInteger(value) ? value : 0;
  // the keys in the protocol's order, as the Python handler writes them: `polytask run` copies
  // them into its output as they come. undefined has no JSON text, so no value.
  const valueText = encoded === undefined ? '' : `"value":${encoded},`;
  return { exit, rest: `${valueText}"stdout":${jsonText(store.stdout)},"stderr":${jsonText(store.stderr)}}`, returned: exit !== 0 };
}

// The JSON text of a returned value (undefined has none); throws where JSON.stringify would
// change it without a word
function encodeValue(value) {
  const encoded = JSON.stringify(value);
  // JSON.stringify turns NaN and Infinity into null: refuse them instead
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`${value} is not a JSON number`);
  // nested, they (and a Set or a Map, which becomes {}) can only have left a null or a {}:
  // the value is walked again only when the text holds one
  if (encoded !== undefined && (encoded.includes('null') || encoded.includes('{}'))) JSON.stringify(value, refuseLossy);
  return encoded;
}

// A result message (version 1 and 2) from an item's fields
const resultMessage = (id, fields) => `{"type":"result","id":${JSON.stringify(id)},"exit":${fields.exit},${fields.rest}`;

// A replacer that throws on what JSON.stringify would change without a word
function refuseLossy(key, value) {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`${value} is not a JSON number${key === '' ? '' : ` (at key "${key}")`}`);
  if (value instanceof Set || value instanceof Map) throw new TypeError(`a ${value.constructor.name} cannot be encoded as JSON (it would become {})`);
  return value;
}

// The SerializationError result, as the Python handler words it
function serializationFailure(value, error, store) {
  const type = value === null ? 'null' : Array.isArray(value) ? 'Array' : typeof value === 'object' ? value.constructor?.name ?? 'Object' : typeof value;
  const message = `return value of type ${type} is not JSON-serialisable: ${error.message}`;
  const stack = `SerializationError: ${message}\n`;
  return failedFields({ name: 'SerializationError', message, stack }, store.stdout, store.stderr + stack);
}

function failedFields(error, stdout, stderr) {
  return { exit: 1, rest: JSON.stringify({ error, stdout, stderr }).slice(1), returned: false };
}

function errorFields(error, store) {
  const info = errorInfo(error);
  return failedFields(info, store.stdout, store.stderr + (info.stack.endsWith('\n') ? info.stack : info.stack + '\n'));
}

// Runs handler(data) for the item `id` in its own capture context; `finish` gets the item's
// fields once it has settled (at once for a handler that does not return a promise)
function runItem(id, attempt, data, finish) {
  const store = { id, stdout: '', stderr: '' };
  const context = { workerId, itemId: id, attempt, args: handlerArgs };
  running += 1;
  const settled = (fields) => {
    running -= 1;
    finish(fields);
    maybeExit();
  };
  let returned;
  try {
    returned = capture.run(store, handler, data, context);
  } catch (error) {
    settled(errorFields(error, store));
    return;
  }
  if (returned !== null && typeof returned?.then === 'function') {
    returned.then((value) => settled(returnedFields(value, store)), (error) => settled(errorFields(error, store)));
  } else {
    settled(returnedFields(returned, store));
  }
}

function call(message) {
  runItem(message.id, message.attempt ?? 1, message.data, (fields) => send(resultMessage(message.id, fields)));
}

// `lines` blocks (version 3): the parent's input lines as they were read; this child writes
// `polytask run`'s whole output line for each, `{"line","data","exit","attempts",...}`, and
// answers the lines of a block in order, as many at a time as have finished, under one
// `lines` head: the parent copies them out without looking at an item.
let exitFromReturn = true;
// init's `output_fd` (version 4): where the output lines of `lines` blocks go, if not on fd 4
let outputFd;
// the block whose lines are still coming, and how many
let linesBlock;
let linesLeft = 0;
// blocks with answers not written yet
const answering = new Set();
const blankLine = 0;
const badLine = 1;

function startBlock(message) {
  linesBlock = { id: message.id, attempt: message.attempt ?? 1, line: message.line, count: message.count, next: 0,
    // lines answered in order so far, and those answered out of order, by place
    done: 0, early: undefined,
    // answered and not written: lines, output lines and their text, failures, returned exits, bad lines
    answered: 0, out: 0, text: '', failed: 0, returned: 0, bad: undefined,
    // what a quiet line's text has between the item and its value
    quietMiddle: `,"exit":0,"attempts":${message.attempt ?? 1},"value":` };
  linesLeft = message.count;
  if (linesLeft === 0) linesBlock = undefined;
}

function blockLine(block, raw) {
  const index = block.next++;
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (isBlank(text)) {
    answerLine(block, index, blankLine);
    return;
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    // the parent writes the result of a line that is not JSON, worded as for a line it checks
    answerLine(block, index, badLine);
    return;
  }
  // the item runs as runItem() would run it, without its closures for a handler that returns
  // at once (most lines of a long run)
  const id = block.id + index;
  const store = { id, stdout: '', stderr: '' };
  // the item's store, for its code and what that code starts (promises, timers): entered, not
  // run() with (which looks the async resource up twice: 3% more of this child's CPU), as the
  // lines of a read run one after another in one callback. The next line enters its own, and
  // onChunk leaves none after the last: an exit after the lines must not name one of them (see
  // process.exit below).
  capture.enterWith(store);
  let returned;
  try {
    returned = handler(data, { workerId, itemId: id, attempt: block.attempt, args: handlerArgs });
  } catch (error) {
    answerLine(block, index, outputLine(block, index, text, errorFields(error, store)));
    return;
  }
  if (returned !== null && typeof returned?.then === 'function') {
    // its settling is not the item's own code
    capture.enterWith(undefined);
    running += 1;
    const settled = (fields) => {
      running -= 1;
      answerLine(block, index, outputLine(block, index, text, fields));
      maybeExit();
    };
    returned.then((value) => settled(returnedFields(value, store)), (error) => settled(errorFields(error, store)));
  } else {
    answerLine(block, index, quietLine(block, index, text, returned, store) ?? outputLine(block, index, text, returnedFields(returned, store)));
  }
}

// The output line of an item whose handler returned at once a value that is not a number and
// printed nothing (most lines of a long run), as one string without the fields object of
// returnedFields: the answer of a line with exit 0 (child CPU per item -10%). undefined for any
// other item, which goes the way of returnedFields.
function quietLine(block, index, text, value, store) {
  if (typeof value === 'number' || store.stdout !== '' || store.stderr !== '') return undefined;
  let encoded;
  try {
    encoded = encodeValue(value);
  } catch {
    return undefined;
  }
  if (encoded === undefined) return undefined;
  return `{"line":${decimal(block.line + index)},"data":${text}${block.quietMiddle}${encoded},"stdout":"","stderr":""}\n`;
}

// `polytask run`'s output line for an item of a block
function outputLine(block, index, text, fields) {
  if (!exitFromReturn && fields.returned) {
    fields.exit = 0;
    fields.returned = false;
  }
  fields.line = `{"line":${decimal(block.line + index)},"data":${text},"exit":${fields.exit},"attempts":${block.attempt},${fields.rest}\n`;
  return fields;
}

// A line number in decimal, joined from the digits of its thousands (this file's own copy of
// src/protocol/messages.ts's decimal(): a handler is one file). A template would keep each new
// number's text in V8's number-string cache, into the old generation; JSON.stringify does not,
// at three times the cost (1-2% of this child's CPU).
const upTo999 = Array.from({ length: 1000 }, (_, i) => String(i));
const threeDigits = upTo999.map((digits) => digits.padStart(3, '0'));
function decimal(n) {
  if (!(Number.isSafeInteger(n) && n >= 0)) return JSON.stringify(n);
  if (n < 1000) return upTo999[n];
  let text = threeDigits[n % 1000];
  for (n = Math.floor(n / 1000); n >= 1000; n = Math.floor(n / 1000)) text = threeDigits[n % 1000] + text;
  return upTo999[n] + text;
}

// Only JSON whitespace (space, tab, CR): a blank line, which is no item
function isBlank(text) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

// `answer`: blankLine, badLine, a quiet line's text (exit 0), or outputLine's fields
function answerLine(block, index, answer) {
  if (index !== block.done) {
    (block.early ??= new Map()).set(index, answer);
    return;
  }
  take(block, index, answer);
  if (block.early !== undefined) {
    for (let next = block.done; block.early.has(next); next = block.done) {
      const early = block.early.get(next);
      block.early.delete(next);
      take(block, next, early);
    }
  }
  if (!answering.has(block)) {
    if (!hasOutgoing()) outgoingSince = performance.now();
    answering.add(block);
  }
  if (block.text.length >= 65536) writeBlock(block);
  if (eager) writeOutgoing();
  else if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

function take(block, index, answer) {
  block.done += 1;
  block.answered += 1;
  if (answer === blankLine) return;
  if (answer === badLine) {
    (block.bad ??= []).push(index);
    return;
  }
  block.out += 1;
  if (typeof answer === 'string') {
    block.text += answer;
    return;
  }
  block.text += answer.line;
  if (answer.exit !== 0) block.failed += 1;
  if (answer.returned) block.returned += 1;
}

// The lines of a block answered so far, under their head, into the outgoing text
function writeBlock(block) {
  if (block.answered === 0) return;
  // the output lines go to the results first, when the parent gave them (version 4); the head
  // that counts them follows on fd 4
  const direct = outputFd !== undefined && block.out > 0;
  if (direct) writeAll(block.text, outputFd);
  let head = `{"type":"lines","id":${block.id},"count":${block.answered},${direct ? `"out":0,"written":${block.out}` : `"out":${block.out}`}`;
  if (block.failed > 0) head += `,"failed":${block.failed}`;
  if (block.returned > 0) head += `,"returned":${block.returned}`;
  if (block.bad !== undefined) head += `,"bad":[${block.bad.join(',')}]`;
  if (outgoing === '') outgoingSince = performance.now();
  outgoing += direct ? head + '}\n' : head + '}\n' + block.text;
  block.answered = block.out = block.failed = block.returned = 0;
  block.text = '';
  block.bad = undefined;
  if (block.done === block.count) answering.delete(block);
  if (outgoing.length >= 65536) writeAll(takeOutgoing());
}

const hasOutgoing = () => outgoing !== '' || answering.size > 0;

// Loads the user's code: a file path (ESM or CommonJS) or a string of source
async function loadCode(code) {
  if (code.type === 'path') return import(pathToFileURL(code.data).href);
  const looksCommonJs = /\b(module\.exports|exports\.\w+\s*=|require\()/.test(code.data)
    && !/^\s*(import|export)\s/m.test(code.data);
  const dir = mkdtempSync(path.join(tmpdir(), 'polytask-'));
  const file = path.join(dir, looksCommonJs ? 'code.cjs' : 'code.mjs');
  writeFileSync(file, code.data);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    // the module is loaded: the file is no longer needed
    unlinkSync(file);
    rmdirSync(dir);
  }
}

function lookup(mod, name) {
  const direct = mod[name];
  if (typeof direct === 'function') return direct;
  const fromDefault = mod.default?.[name];
  if (typeof fromDefault === 'function') return fromDefault;
  return undefined;
}

async function init(message) {
  captureOutput = message.capture !== false;
  if (Array.isArray(message.args)) handlerArgs = Object.freeze(message.args);
  eager = message.timeout_ms !== undefined && message.timeout_ms !== null;
  exitFromReturn = message.exit_from_return !== false;
  if (Number.isSafeInteger(message.output_fd) && message.output_fd > 4) outputFd = message.output_fd;
  // Ctrl-C at a terminal reaches the whole process group; the parent ends its children itself
  if (captureOutput) process.on('SIGINT', () => {});
  const store = { stdout: '', stderr: '' };
  try {
    await capture.run(store, async () => {
      const mod = await loadCode(message.code);
      handler = lookup(mod, message.handler);
      if (handler === undefined) {
        const where = message.code.type === 'path' ? message.code.data : 'the code string';
        throw Object.assign(new Error(`handler function "${message.handler}" is not exported by ${where}`), { name: 'HandlerNotFoundError' });
      }
      if (message.setup_hook) {
        const setup = lookup(mod, message.setup_hook);
        if (setup === undefined) {
          throw Object.assign(new Error(`setup hook "${message.setup_hook}" is not exported`), { name: 'HandlerNotFoundError' });
        }
        await setup();
      }
    });
  } catch (error) {
    send({ type: 'init_error', error: errorInfo(error), ...store });
    process.exit(1);
  }
  // the highest version both speak: 2 adds `calls` blocks, 3 `lines` blocks, 4 `output_fd`
  const protocol = Math.max(1, Math.min(4, Math.trunc(Number(message.protocol) || 1)));
  send({ type: 'ready', pid: process.pid, language: 'node', version: process.versions.node, protocol, ...store });
}

// Splits fd 3 into lines; init is handled before any call
let buffered = '';
let initialising;
const queued = [];
// the items of a `calls` block still to come (one JSON text per line), their next id and attempt
let blockLeft = 0;
let blockId = 0;
let blockAttempt = 1;
function onLine(line) {
  if (linesLeft > 0) {
    const block = linesBlock;
    linesLeft -= 1;
    if (linesLeft === 0) linesBlock = undefined;
    if (initialising !== undefined) queued.push(() => blockLine(block, line));
    else blockLine(block, line);
    return;
  }
  if (line === '') return;
  if (blockLeft > 0) {
    blockLeft -= 1;
    const id = blockId++;
    let data;
    try {
      data = JSON.parse(line);
    } catch (error) {
      const message = `the item is not valid JSON: ${error.message}`;
      const stack = `ParseError: ${message}\n`;
      whenReady(() => send({ type: 'result', id, exit: 65, error: { name: 'ParseError', message, stack }, stdout: '', stderr: stack }));
      return;
    }
    const m = { type: 'call', id, attempt: blockAttempt, data };
    whenReady(() => call(m));
    return;
  }
  const message = JSON.parse(line);
  if (message.type === 'calls') {
    [blockId, blockLeft, blockAttempt] = [message.id, message.count, message.attempt ?? 1];
    return;
  }
  if (message.type === 'lines') {
    startBlock(message);
    return;
  }
  if (message.type === 'init') {
    initialising = init(message).then(() => {
      initialising = undefined;
      // counted as running while the queue drains: when the input has already ended, a call
      // that finishes at once must not end the process before the calls queued behind it run
      running += 1;
      for (const answer of queued.splice(0)) answer();
      capture.enterWith(undefined);
      running -= 1;
      maybeExit();
    });
  } else if (message.type === 'call') {
    whenReady(() => call(message));
  }
}

// Answers a call now, or once init is done (no result goes before `ready`)
function whenReady(answer) {
  if (initialising !== undefined) queued.push(answer);
  else answer();
}

// the pieces of a message longer than a read: joined once its end comes, not at every read
let long = [];
// The clock is read before a line only every `clockEvery` lines: a read costs about as much as a
// quick item (3-4% of this child's CPU when it was read before each line). That number doubles, up
// to 64, while the lines between two reads took under 0.5 ms, and is 1 again once they did not.
let clockEvery = 1;
let sinceClock = 0;
let clockAt = 0;
function onChunk(chunk) {
  if (!chunk.includes('\n')) {
    long.push(chunk);
    return;
  }
  const parts = (long.length > 0 ? buffered + long.join('') + chunk : buffered + chunk).split('\n');
  long = [];
  buffered = parts.pop() ?? '';
  for (const line of parts) {
    if (++sinceClock >= clockEvery) {
      const now = performance.now();
      clockEvery = now - clockAt < 0.5 ? Math.min(64, 2 * clockEvery) : 1;
      clockAt = now;
      sinceClock = 0;
      // results must not wait long behind a slow item
      if (hasOutgoing() && now - outgoingSince > 5) flush();
    }
    onLine(line);
  }
  capture.enterWith(undefined);
  flush();
}
input.on('end', () => {
  inputEnded = true;
  if (initialising === undefined) maybeExit();
});
input.on('error', () => process.exit(1));

// An item that calls process.exit() names itself, so that the parent blames the right item
// even when several run at once
process.exit = (code) => {
  flush();
  const id = capture.getStore()?.id;
  if (id !== undefined) {
    try {
      writeSync(4, JSON.stringify({ type: 'exiting', id }) + '\n');
    } catch {
      // the parent is gone or the pipe is full: it will blame the oldest item instead
    }
  }
  return realExit(code);
};

// Signals the process group this child leads (polytask starts it so): what the handler started.
// False when it leads none (a debugging session shares the terminal's group).
function signalOwnGroup(signal) {
  try {
    process.kill(-process.pid, signal);
    return true;
  } catch {
    return false;
  }
}

// Results still waiting leave before the process ends, whatever ends it (an uncaught error
// too); then what the handler started gets SIGTERM (which this process ignores, to exit as it meant)
process.on('exit', () => {
  flush();
  process.on('SIGTERM', () => {});
  signalOwnGroup('SIGTERM');
});

// Ends this child, and its group, when the parent is gone, even while an item is running
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid === parentPid) return;
  signalOwnGroup('SIGKILL');
  realExit(1);
}, 500).unref();
