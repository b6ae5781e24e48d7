// JavaScript calls over Redis. A module task's queue is named from a hash of its module root
// (every .js/.mjs/.cjs/.json file under it, by path and content), so producers and workers
// meet only when they have the same code; the call names the module by its path under that
// root. Inline function source is code too: it goes only to workers started with
// --allow-inline, signed with HMAC-SHA256 under the shared secret POLYTASK_SECRET (Redis
// stores job data in the clear), on a queue named from the secret's hash.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OptionError } from '../errors.js';
import type { JsCall } from '../pool/thread/wire.js';
import { wireVersion } from './keys.js';

export const secretVariable = 'POLYTASK_SECRET';
const codeFile = /\.(?:m|c)?js$|\.json$/;
const maxFiles = 2000;

/** The shared secret, or an error saying where it is missing */
export function sharedSecret(what: string): string {
  const secret = process.env[secretVariable] ?? '';
  if (secret.length < 16) throw new OptionError(`${what} needs the shared secret in ${secretVariable} (16 characters or more), on the producer and on the workers: inline code is signed with it`);
  return secret;
}

export function inlineQueue(secret: string): string {
  return `js-inline-${createHash('sha256').update(`polytask inline queue\0${wireVersion}\0${secret}`).digest('hex').slice(0, 16)}`;
}

/** The queue of a module root: a hash of its code files' paths and contents, and the wire version */
export function moduleQueue(root: string): string {
  const hash = createHash('sha256').update(`polytask wire ${wireVersion}\0`);
  let count = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const full = path.join(dir, name);
      const stat = statSync(full);
      if (stat.isDirectory()) walk(full);
      else if (codeFile.test(name)) {
        if (++count > maxFiles) throw new OptionError(`moduleRoot: more than ${maxFiles} code files under ${root}: point it at the folder of the task's modules`);
        hash.update(`${path.relative(root, full).split(path.sep).join('/')}\0`).update(readFileSync(full)).update('\0');
      }
    }
  };
  walk(root);
  return `js-${hash.digest('hex').slice(0, 16)}`;
}

/** Where a module task's calls go, and how a call is written for them */
export interface JsRoute {
  queue: string;
  encode(call: JsCall): string;
  // what its workers run, and the flags that start one
  serves: readonly [string, string];
}

export function jsRoute(call: JsCall, moduleRoot: string | undefined): JsRoute {
  const { target } = call;
  if (target.kind === 'source') {
    const secret = sharedSecret('A JavaScript function task with `redis`');
    return { queue: inlineQueue(secret), serves: ['inline functions with this POLYTASK_SECRET', '--allow-inline'], encode: (c) => signed(secret, JSON.stringify({ s: (c.target as { source: string }).source, a: c.args })) };
  }
  const file = target.url.startsWith('file:') ? fileURLToPath(target.url) : path.resolve(target.url);
  const root = path.resolve(moduleRoot ?? path.dirname(file));
  const relative = path.relative(root, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new OptionError(`moduleRoot: the module ${file} is not under ${root}`);
  const m = relative.split(path.sep).join('/');
  return { queue: moduleQueue(root), serves: [`this code of ${root}`, `--module-root DIR (a copy of ${root})`], encode: (c) => JSON.stringify({ m, n: (c.target as { name: string }).name, a: c.args }) };
}

// `{"h":"<64 hex>","c":<call>}`: the signature covers the call's text exactly as sent
function signed(secret: string, body: string): string {
  return `{"h":"${createHmac('sha256', secret).update(body).digest('hex')}","c":${body}}`;
}

/** What a JavaScript worker accepts: module calls under its root, signed inline calls */
export interface JsAccept {
  moduleRoot?: string | undefined;
  secret?: string | undefined;
}

/** The call a worker runs for a line, or an Error saying why it refuses it */
export function decodeCall(line: string, accept: JsAccept): JsCall | Error {
  if (line.startsWith('{"h":"')) {
    if (accept.secret === undefined) return new Error('refused: inline code, and this worker was not started with --allow-inline');
    const given = Buffer.from(line.slice(6, 70), 'hex');
    const body = line.slice(76, -1);
    const expected = createHmac('sha256', accept.secret).update(body).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return new Error(`refused: inline code without a valid signature (is ${secretVariable} the same on the producer?)`);
    const { s, a } = JSON.parse(body) as { s: string; a: unknown[] };
    return { target: { kind: 'source', source: s }, args: a };
  }
  const { m, n, a } = JSON.parse(line) as { m?: string; n?: string; a: unknown[] };
  if (m === undefined || n === undefined) return new Error('refused: inline code without a signature');
  if (accept.moduleRoot === undefined) return new Error('refused: a module call, and this worker was not started with --module-root');
  const file = path.resolve(accept.moduleRoot, m);
  if (path.relative(accept.moduleRoot, file).startsWith('..')) return new Error(`refused: the module ${m} is outside --module-root`);
  return { target: { kind: 'module', url: pathToFileURL(file).href, name: n }, args: a };
}
