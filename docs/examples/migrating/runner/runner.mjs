// runner's README examples: named applications over stdio and a UNIX socket
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runner } from 'polytask';

const echoServer = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'toolkit', 'echo-server.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'runner-'));

// Runner(extra_paths=[...]) -> new Runner({ extraPaths: [...] }) (put first on PATH, not last)
const runner = new Runner();
runner.add('cat', 'cat');                       // runner.add("cat", "cat")
await runner.start('cat');                      // runner.start('cat'): resolves with the channel
const channel = runner.getChannel('cat');       // runner.get_channel('cat')
channel.write('hello, world\n');                // bytes or strings
console.log(String(await channel.readAsync()).trim());   // read() never waits; readAsync() does

// type="socket": the command is split into words as a shell would, but no shell runs it
runner.add('echo', `${process.execPath} ${echoServer} echo.sock`, { type: 'socket', socket: 'echo.sock', cwd: dir });
const echo = await runner.ensureRunning('echo'); // waits for the socket (socketTimeout, ms)
echo.write('over the socket');
console.log(String(await echo.readAsync()));

// aliases, with_args -> withArgs, other kwargs override the configuration for this start
runner.add('lines', ['sh', '-c', 'while read l; do echo "$0: $l"; done'], { buffering: 'line' });
const second = await runner.start('lines', { alias: 'second', withArgs: ['second'] });
second.write('a line\n');
console.log(String(await second.readAsync()).trim());

try {
  await runner.start('cat');                    // ProcessExistsException -> ProcessExistsError
} catch (error) {
  console.log(error.name);
}
await runner.ensureRunning('cat');              // running already: nothing to do

await runner.terminate('cat');                  // runner.terminate('cat'): resolves once it is reaped
console.log(runner.aliases().sort().join(' '));
await runner.terminateAll();
