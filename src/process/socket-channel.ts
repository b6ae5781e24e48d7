// SocketChannel: a channel over a UNIX or TCP socket (Nagle's algorithm off), and a connect
// that waits for a socket that is not listening yet, with a time limit.
import net from 'node:net';
import { SocketTimeoutError } from '../errors.js';
import { checkOption, isNonNegativeMs, knownOptions } from '../options.js';
import { BufferedChannel } from './channels.js';

// A UNIX socket path, or a TCP address
export type SocketAddress = string | { host?: string; port: number };

export function describeAddress(address: SocketAddress): string {
  return typeof address === 'string' ? address : `${address.host ?? 'localhost'}:${address.port}`;
}

export class SocketChannel extends BufferedChannel {
  readonly socket: net.Socket;

  constructor(socket: net.Socket) {
    super();
    this.socket = socket;
    // small writes go out at once (Nagle's algorithm would hold them for up to ~40-200 ms)
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.received(data));
    socket.once('end', () => this.peerGone('the peer closed the socket'));
    socket.once('close', () => this.peerGone('the socket was closed'));
    socket.on('error', (error) => this.peerGone(`the socket failed: ${error.message}`));
  }

  // Connects once; rejects with the connection error
  static connect(address: SocketAddress): Promise<SocketChannel> {
    return new Promise((resolve, reject) => {
      if (typeof address !== 'string') knownOptions('a socket address', address, ['host', 'port']);
      const socket = typeof address === 'string' ? net.connect({ path: address }) : net.connect({ host: address.host ?? 'localhost', port: address.port });
      const onError = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new SocketChannel(socket));
      });
    });
  }

  // Connects, retrying while the socket does not exist or refuses (not listening yet, or a
  // stale file) until `timeoutMs`; `stop` gives up early (e.g. the app exited) with its error
  static async connectWhenReady(address: SocketAddress, timeoutMs: number, stop?: () => Error | undefined): Promise<SocketChannel> {
    checkOption('socketTimeout', timeoutMs, isNonNegativeMs);
    const deadline = performance.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      try {
        return await SocketChannel.connect(address);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ECONNREFUSED' && code !== 'ENOTSOCK') throw error;
        const stopped = stop?.();
        if (stopped !== undefined) throw stopped;
        if (performance.now() >= deadline) throw new SocketTimeoutError(describeAddress(address), timeoutMs, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 50);
    }
  }

  protected send(data: Buffer): void {
    this.socket.write(data);
  }

  protected shut(): void {
    this.socket.destroy();
  }
}
