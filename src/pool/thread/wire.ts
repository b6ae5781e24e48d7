// A JavaScript call as it crosses to a worker
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { serialize } from 'node:v8';
import type { WireCall } from './entry.js';

export type JsTarget = { kind: 'source'; source: string } | { kind: 'module'; url: string; name: string };

/** A function to run (its source text, or a module export) and its arguments */
export interface JsCall {
  target: JsTarget;
  args: unknown[];
}

// The call on the wire; a module path becomes a file URL
export function toWire(call: JsCall): WireCall {
  const { target } = call;
  if (target.kind === 'source') return { s: target.source, a: call.args };
  const url = path.isAbsolute(target.url) ? pathToFileURL(target.url).href : target.url;
  return { u: url, n: target.name, a: call.args };
}

// Why arguments cannot go to a child process, if they cannot: tinypool sends them with Node's
// advanced serialization, and a value it cannot copy would throw in tinypool's message
// handler, out of reach, and end this process
export function unsendable(args: unknown[]): TypeError | undefined {
  try {
    serialize(args);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const hint = /SharedArrayBuffer/.test(reason) ? ': a SharedArrayBuffer cannot be shared with another process (use the thread runtime, or pass a copy such as a typed array)' : '';
    return new TypeError(`the arguments cannot be sent to a worker process (runtime 'process' copies them with Node's advanced serialization): ${reason.replace(/\.$/, '')}${hint}`, { cause: error });
  }
}
