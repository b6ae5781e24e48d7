// The error classes users catch, and errorInfo(), the plain-data form results carry
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { errorInfo, OutputError, PolytaskError, RemoteError, SerializationError } from '../src/index.js';
import { bin, scratch, timed } from './helpers.js';

test('SerializationError is a RemoteError of type SerializationError, as it was before it had a class', () => {
  const error = new SerializationError('the item cannot be sent as JSON: Do not know how to serialize a BigInt');
  assert.ok(error instanceof SerializationError);
  assert.ok(error instanceof RemoteError);
  assert.ok(error instanceof PolytaskError);
  assert.is(error.name, 'SerializationError');
  assert.is(error.type, 'SerializationError');
  assert.is(error.message, 'the item cannot be sent as JSON: Do not know how to serialize a BigInt');
  assert.is(error.traceback, '');
});

test('SerializationError from a handler\'s result keeps the remote traceback', () => {
  const info = { name: 'SerializationError', message: 'return value of type set is not JSON-serialisable', stack: 'Traceback (most recent call last):\n  ...\n' };
  const error = new SerializationError(info);
  assert.is(error.type, 'SerializationError');
  assert.is(error.traceback, info.stack);
  assert.is(error.stack, `SerializationError: ${info.message}\n--- remote stack ---\n${info.stack}`);
  assert.equal(errorInfo(error), { name: 'SerializationError', message: info.message, stack: error.stack });
});

test('OutputError is a PolytaskError with the write error as its cause', () => {
  const cause = Object.assign(new Error('EPIPE: broken pipe, write'), { code: 'EPIPE' });
  const error = new OutputError('cannot write the results: EPIPE: broken pipe, write', { cause });
  assert.ok(error instanceof PolytaskError);
  assert.is(error.name, 'OutputError');
  assert.is(error.cause, cause);
});

test('errorInfo: name, message and stack of an Error, and only those', () => {
  const error = Object.assign(new TypeError('bad'), { big: { deep: { deeper: 1 } }, toJSON: () => ({ name: 'x', message: 'y' }) });
  assert.equal(errorInfo(error), { name: 'TypeError', message: 'bad', stack: error.stack });
  const named = new RemoteError({ name: 'ValueError', message: 'no', stack: 'Traceback\n' });
  assert.equal(Object.keys(errorInfo(named)), ['name', 'message', 'stack']);
  assert.is(errorInfo(named).name, 'RemoteError');
});

test('errorInfo: an error of another realm, an error-like object, and a value that is not an error', () => {
  const foreign = runInNewContext('new RangeError("far")') as Error;
  assert.not.ok(foreign instanceof Error);
  assert.equal(errorInfo(foreign), { name: 'RangeError', message: 'far', stack: foreign.stack });
  assert.equal(errorInfo({ name: 'ValueError', message: 'no', stack: 'Traceback\n' }), { name: 'ValueError', message: 'no', stack: 'Traceback\n' });
  assert.equal(errorInfo('plain text'), { name: 'Error', message: 'plain text' });
  assert.equal(errorInfo(undefined), { name: 'Error', message: 'undefined' });
  assert.equal(errorInfo({ message: 'no name, no stack' }), { name: 'Error', message: '[object Object]' });
});

test('polytask run >/dev/full: the run stops with an OutputError, status 1', timed(30_000, async () => {
  const spec = scratch('errors').write('identity.json', JSON.stringify({ exec_type: 'node', exec_info: { code: 'export const main = (e) => e;' } }));
  const full = openSync('/dev/full', 'w');
  try {
    const child = spawn(process.execPath, [bin, 'run', '-s', spec, '-p', '1'], { stdio: ['pipe', full, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin!.end('1\n2\n3\n');
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.is(status, 1, stderr);
    assert.match(stderr, /^polytask: OutputError: cannot write the results: ENOSPC/m);
  } finally {
    closeSync(full);
  }
}));

test.run();
