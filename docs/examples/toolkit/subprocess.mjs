// Subprocess: line callbacks, collected output, stdin, and the lines() iterator
import { Subprocess } from 'polytask';

const p = new Subprocess(['sh', '-c', 'echo one; echo two >&2; printf "three (no newline)"'], {
  onStdoutLine: (line) => console.log(`stdout: ${line}`),
  onStderrLine: (line) => console.log(`stderr: ${line}`),
  onExit: ({ code, signal }) => console.log(`exited: code ${code}, signal ${signal}`),
});
await p.wait();

const cat = new Subprocess(['cat'], { collectOutput: true });
const lines = cat.lines();
cat.write('input\n');
cat.write('more input\n');
cat.closeStdin();
for await (const line of lines) console.log(`cat said: ${line}`);
console.log(await cat.wait());   // { code: 0, signal: null, stdout: 'input\nmore input\n', stderr: '' }

const sleeper = new Subprocess(['sleep', '30'], { timeout: 200 });   // or { signal }
const error = await sleeper.wait().catch((e) => e);
console.log(error.name, error.message, error.exit);
// TimeoutError the subprocess timed out after 200 ms { code: null, signal: 'SIGTERM' }
