// Redis URLs: the three schemes, a database, credentials masked in what is shown, bad URLs named;
// and the server's version, 6.2 or later
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OptionError } from '../../src/errors.js';
import { redisTarget, tooOld } from '../../src/remote/connection.js';

test('redis:// with user, password and database; the password is masked', () => {
  const target = redisTarget('redis://alice:s%40cret@cache.example:6380/3');
  assert.equal(target.options, { username: 'alice', password: 's@cret', host: 'cache.example', port: 6380, db: 3 });
  assert.is(target.display, 'redis://alice:***@cache.example:6380/3');
});

test('rediss:// is TLS; the port defaults to 6379 and the database to 0', () => {
  assert.equal(redisTarget('rediss://cache.example').options, { host: 'cache.example', port: 6379, db: 0, tls: {} });
});

test('redis+unix:// is a socket path, with ?db=N', () => {
  assert.equal(redisTarget('redis+unix:///run/redis/redis.sock?db=2').options, { path: '/run/redis/redis.sock', db: 2 });
});

test('a bad URL names the option and the value, without the password', () => {
  const cases: [unknown, string, string][] = [
    ['http://x:6379', 'redis', 'redis: expected a redis://, rediss:// or redis+unix:// URL, got "http://x:6379"'],
    ['not a url', '--redis', '--redis: expected a redis://, rediss:// or redis+unix:// URL, got "not a url"'],
    ['redis://u:pw@host/x', 'redis', 'redis: the database must be a number, got "redis://u:***@host/x"'],
    ['redis+unix://', 'redis', 'redis: redis+unix:// needs the socket path (redis+unix:///path/to/redis.sock), got "redis+unix://"'],
    [6379, 'redis', 'redis: expected a redis://, rediss:// or redis+unix:// URL, got number'],
  ];
  for (const [url, option, message] of cases) {
    try {
      redisTarget(url, option);
      assert.unreachable(`accepted ${String(url)}`);
    } catch (error) {
      assert.instance(error, OptionError);
      assert.is((error as Error).message, message);
    }
  }
});

test('a server older than Redis 6.2 is named with its version; 6.2 and later (Valkey says 7.2 too) pass', () => {
  const info = (version: string) => `# Server\r\nredis_version:${version}\r\nredis_git_sha1:00000000\r\n`;
  assert.is(tooOld(info('6.0.16'), 'redis://h:6379'), 'Redis at redis://h:6379 is version 6.0.16; polytask needs Redis 6.2 or later');
  assert.is(tooOld(info('5.0.14'), 'redis://h:6379'), 'Redis at redis://h:6379 is version 5.0.14; polytask needs Redis 6.2 or later');
  for (const version of ['6.2.0', '6.2.14', '7.0.15', '7.2.4', '10.0.0']) assert.is(tooOld(info(version), 'redis://h:6379'), undefined, version);
  // a server that does not say: let it try
  assert.is(tooOld('# Server\r\n', 'redis://h:6379'), undefined);
});

test.run();
