// Poller: waits on many channels at once, and accepts the clients of servers.
//
//   poll(timeoutMs) -> [data, channel] for each channel with data (an empty Buffer once when the
//                      peer has gone: the channel is then unregistered), and
//                      [[address, client], server] for each new client of a server
import type net from 'node:net';
import { EndpointClosedError } from '../errors.js';
import { checkOption, isNonNegativeMs } from '../options.js';
import type { Channel } from './channels.js';
import { SocketChannel } from './socket-channel.js';

export type PollEvent = [Buffer, Channel] | [[string, SocketChannel], net.Server];

export class Poller {
  readonly #channels = new Map<Channel, () => void>();
  readonly #servers = new Map<net.Server, (socket: net.Socket) => void>();
  #clients: [[string, SocketChannel], net.Server][] = [];
  #wake: (() => void) | undefined;

  register(channel: Channel): void {
    if (this.#channels.has(channel)) return;
    this.#channels.set(channel, channel.onChange(() => this.#notify()));
    this.#notify();
  }

  unregister(channel: Channel): void {
    this.#channels.get(channel)?.();
    this.#channels.delete(channel);
  }

  // Accepts the server's clients, registers them, and reports each once from poll()
  addServer(server: net.Server): void {
    if (this.#servers.has(server)) return;
    const onConnection = (socket: net.Socket) => {
      const client = new SocketChannel(socket);
      const address = socket.remoteAddress === undefined ? '' : `${socket.remoteAddress}:${socket.remotePort ?? ''}`;
      this.register(client);
      this.#clients.push([[address, client], server]);
      this.#notify();
    };
    server.on('connection', onConnection);
    this.#servers.set(server, onConnection);
  }

  // Closes every registered channel and server
  closeAll(): void {
    for (const [channel, off] of this.#channels) {
      off();
      channel.close();
    }
    this.#channels.clear();
    for (const [server, onConnection] of this.#servers) {
      server.off('connection', onConnection);
      server.close();
    }
    this.#servers.clear();
    this.#clients = [];
    this.#notify();
  }

  // Resolves with what is ready, waiting up to `timeoutMs` (default: until something is) for it
  async poll(timeoutMs?: number): Promise<PollEvent[]> {
    if (timeoutMs !== undefined) checkOption('timeoutMs', timeoutMs, isNonNegativeMs);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      for (;;) {
        const events = this.#collect();
        if (events.length > 0 || timedOut) return events;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          if (timeoutMs !== undefined && timer === undefined) {
            timer = setTimeout(() => {
              timedOut = true;
              resolve();
            }, timeoutMs);
          }
        });
      }
    } finally {
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  #collect(): PollEvent[] {
    const events: PollEvent[] = this.#clients;
    this.#clients = [];
    for (const channel of [...this.#channels.keys()]) {
      try {
        const data = channel.read();
        if (data.length > 0) events.push([data, channel]);
      } catch (error) {
        if (!(error instanceof EndpointClosedError)) throw error;
        this.unregister(channel);
        events.push([Buffer.alloc(0), channel]);
      }
    }
    return events;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
