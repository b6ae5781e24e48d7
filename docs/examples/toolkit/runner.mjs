// Runner: named applications over stdio or a UNIX socket, aliases, and a Poller over both
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Poller, Runner } from 'polytask';

const here = path.dirname(fileURLToPath(import.meta.url));
const socket = path.join(mkdtempSync(path.join(tmpdir(), 'toolkit-')), 'echo.sock');

const runner = new Runner();
runner.updateConfig({
  cat: { command: 'cat', type: 'stdio', buffering: 'line' },
  echo: { command: [process.execPath, path.join(here, 'echo-server.mjs'), socket], type: 'socket', socket },
});
const cat = await runner.ensureRunning('cat');
const echo = await runner.ensureRunning('echo');            // waits for the socket (5 s at most)
await runner.start('cat', { alias: 'cat2' });                // a second instance under an alias

cat.write('hel');
cat.write('lo\n');
console.log(`cat: ${await cat.readAsync()}`.trim());       // one whole line: 'hello'

const poller = new Poller();
poller.register(echo);
poller.register(runner.getChannel('cat2'));
echo.write('over the socket');
runner.getChannel('cat2').write('from cat2\n');
let seen = 0;
while (seen < 2) {
  for (const [data, channel] of await poller.poll(1000)) {
    console.log(`${channel === echo ? 'echo' : 'cat2'}: ${data.toString().trim()}`);
    seen++;
  }
}

try {
  await runner.start('cat');
} catch (error) {
  console.log(error.name);                                   // ProcessExistsError
}
await runner.terminateAll();
try {
  cat.read();
} catch (error) {
  console.log(`after terminate: ${error.name}`);             // EndpointClosedError
}
