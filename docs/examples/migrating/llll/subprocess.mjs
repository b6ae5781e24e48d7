// llll's Subprocess: a line callback for stdout and stderr, and one at the exit
import { Subprocess } from 'polytask';

const s = new Subprocess(['sh', '-c', 'echo one; echo two >&2; echo three'], {
  onStdoutLine: (line) => console.log(`out: ${line}`),   // stdout_callback: a string, without its newline
  onStderrLine: (line) => console.log(`err: ${line}`),   // stderr_callback
  collectOutput: true,                                    // collect_output
  onExit: ({ code, stdout, stderr }) =>                   // end_callback(stdout, stderr)
    console.log(`exited ${code}; collected ${JSON.stringify(stdout)} and ${JSON.stringify(stderr)}`),
});
await s.wait();                                           // s.join()

// write to stdin, close it, kill: write(), closeStdin() (write_done), kill()
const py = new Subprocess(['sh', '-c', 'read line; echo "got $line"; sleep 60'], { onStdoutLine: (line) => console.log(line) });
py.write('hello\n');
py.closeStdin();
await new Promise((resolve) => setTimeout(resolve, 500));
py.kill();                                                // SIGTERM (llll: SIGKILL); kill('SIGKILL') for that
console.log((await py.wait()).signal);
