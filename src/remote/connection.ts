// Where Redis is: `redis://[user:password@]host:port[/db]`, `rediss://` (TLS) or
// `redis+unix:///path/to/socket[?db=N]`, checked once into ioredis options. The URL is shown
// with its password masked, in messages too.
// ioredis (and BullMQ) load only when a run or a worker uses Redis: every other start of the
// CLI is spared them
import type { Redis, RedisOptions } from 'ioredis';
import { OptionError, SetupError } from '../errors.js';

export interface RedisTarget {
  readonly options: RedisOptions;
  /** The URL with any password masked: what messages show */
  readonly display: string;
}

/** Parses a Redis URL; `option` names it in the error (`redis`, or `--redis` in the CLI) */
export function redisTarget(url: unknown, option = 'redis'): RedisTarget {
  if (typeof url !== 'string') throw new OptionError(`${option}: expected a redis://, rediss:// or redis+unix:// URL, got ${typeof url}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OptionError(`${option}: expected a redis://, rediss:// or redis+unix:// URL, got "${url}"`);
  }
  const display = parsed.password === '' ? url : url.replace(`:${parsed.password}@`, ':***@');
  const bad = (why: string) => new OptionError(`${option}: ${why}, got "${display}"`);
  const auth: RedisOptions = {
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
  };
  let db = 0;
  const dbText = parsed.protocol === 'redis+unix:' ? parsed.searchParams.get('db') ?? '' : parsed.pathname.replace(/^\//, '');
  if (dbText !== '') {
    if (!/^\d+$/.test(dbText)) throw bad('the database must be a number');
    db = Number(dbText);
  }
  if (parsed.protocol === 'redis+unix:') {
    if (parsed.pathname === '' || parsed.pathname === '/') throw bad('redis+unix:// needs the socket path (redis+unix:///path/to/redis.sock)');
    return { options: { ...auth, path: decodeURIComponent(parsed.pathname), db }, display };
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw bad('expected a redis://, rediss:// or redis+unix:// URL');
  if (parsed.hostname === '') throw bad('the URL has no host');
  return {
    options: {
      ...auth,
      host: parsed.hostname.replace(/^\[|\]$/g, ''),
      port: parsed.port === '' ? 6379 : Number(parsed.port),
      db,
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    display,
  };
}

/**
 * A connection for BullMQ and for the results streams: commands wait through a reconnect
 * (BullMQ needs `maxRetriesPerRequest: null`); the caller watches for an outage that lasts
 */
export async function connect(target: RedisTarget, name: string, lazy = true): Promise<Redis> {
  const { Redis } = await import('./libraries.js');
  const redis = new Redis({ ...target.options, connectionName: name, maxRetriesPerRequest: null, lazyConnect: lazy });
  // an outage is reported by whoever waits on it (Outage below); without a listener, ioredis
  // would print every failed reconnect
  redis.on('error', () => {});
  return redis;
}

/**
 * Why the server's INFO (its `redis_version`) is too old for polytask, or undefined: results
 * streams need Redis 6.2 (`XADD NOMKSTREAM`, `XTRIM MINID`)
 */
export function tooOld(info: string, display: string): string | undefined {
  const version = /^redis_version:(\S+)/m.exec(info)?.[1];
  const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
  if (version === undefined || major > 6 || (major === 6 && minor >= 2)) return undefined;
  return `Redis at ${display} is version ${version}; polytask needs Redis 6.2 or later`;
}

/** Throws a SetupError when the server is older than polytask needs (tooOld) */
export async function checkVersion(redis: Redis, target: RedisTarget): Promise<void> {
  const why = tooOld(await redis.info('server'), target.display);
  if (why !== undefined) throw new SetupError(why);
}

/**
 * Tracks how long a connection has been down: `downFor()` is 0 while it is up. A run that has
 * lost Redis for longer than its limit fails with one line instead of waiting forever.
 */
export class Outage {
  #since: number | undefined;
  #lastError: Error | undefined;

  constructor(redis: Redis) {
    redis.on('ready', () => (this.#since = undefined));
    redis.on('close', () => (this.#since ??= Date.now()));
    redis.on('error', (error: Error) => (this.#lastError = error));
  }

  downFor(): number {
    return this.#since === undefined ? 0 : Date.now() - this.#since;
  }

  get lastError(): Error | undefined {
    return this.#lastError;
  }
}

/**
 * Lets connections hold the event loop only while there is work, as the local pools' children
 * do: an idle producer that is never closed lets Node exit. Applied again to the new socket of
 * every reconnect.
 */
export class LoopHold {
  #held = true;
  readonly #connections: Redis[] = [];

  add(redis: Redis): void {
    this.#connections.push(redis);
    redis.on('connect', () => this.#apply(redis));
    this.#apply(redis);
  }

  set(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    for (const redis of this.#connections) this.#apply(redis);
  }

  #apply(redis: Redis): void {
    const socket = redis.stream as { ref?: () => void; unref?: () => void } | undefined;
    if (this.#held) socket?.ref?.();
    else socket?.unref?.();
  }
}
