// A tiny socket app for runner.mjs: echoes what each client sends, on the UNIX socket argv[2]
import net from 'node:net';
import { rmSync } from 'node:fs';

rmSync(process.argv[2], { force: true });
net.createServer((socket) => socket.pipe(socket)).listen(process.argv[2]);
process.on('SIGTERM', () => process.exit(0));
