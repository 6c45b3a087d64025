// A fault-injecting TCP proxy for tests, in the manner of Toxiproxy (whose
// server cannot be installed here): it forwards to a target and can be set to
// refuse connections (down), delay data (latency), reset connections
// (reset_peer) or reset them once the answer has begun (reset_mid_response:
// the request reaches the target, part of its answer reaches the client),
// and back to normal.
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type Toxic =
  | { kind: 'none' }
  | { kind: 'down' }
  | { kind: 'latency'; ms: number }
  | { kind: 'reset_peer' }
  | { kind: 'reset_mid_response' };

export class FaultProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #toxic: Toxic = { kind: 'none' };
  // Connections made while each toxic was set, by kind.
  readonly connections: Record<Toxic['kind'], number> = {
    none: 0,
    down: 0,
    latency: 0,
    reset_peer: 0,
    reset_mid_response: 0,
  };

  constructor(targetUrl: string) {
    const url = new URL(targetUrl);
    this.#target = { host: url.hostname, port: Number(url.port) };
    this.#server = createServer((client) => this.#accept(client));
  }

  async start(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  // Applies to new connections, and to open ones for down and reset_peer.
  set(toxic: Toxic): void {
    this.#toxic = toxic;
    if (toxic.kind === 'down' || toxic.kind === 'reset_peer') {
      for (const socket of this.#sockets) socket.resetAndDestroy();
    }
  }

  #accept(client: Socket): void {
    const toxic = this.#toxic;
    this.connections[toxic.kind] += 1;
    if (toxic.kind === 'down' || toxic.kind === 'reset_peer') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(this.#target);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        const current = this.#toxic;
        if (current.kind === 'latency') setTimeout(() => to.write(chunk), current.ms);
        else if (current.kind === 'reset_mid_response' && from === upstream) {
          to.write(chunk.subarray(0, Math.ceil(chunk.length / 2)), () => to.resetAndDestroy());
          from.destroy();
        } else to.write(chunk);
      });
      from.on('end', () => {
        const current = this.#toxic;
        setTimeout(() => to.end(), current.kind === 'latency' ? current.ms : 0);
      });
      from.on('close', () => to.destroy());
    };
    pipe(client, upstream);
    pipe(upstream, client);
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
