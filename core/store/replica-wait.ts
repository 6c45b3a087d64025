// Waits until replicas hold every change made so far (Redis WAIT, for
// REDIS_WAIT_REPLICAS), on connections of its own. WAIT blocks the
// connection it is sent on until the replicas answer or its timeout passes:
// sent on the shared connection, it held up every command queued behind it
// (other requests, a worker's lease renewal), and after a failover, with no
// replica yet, each change waited its full second one after another (the
// API answered one write a second and a worker missed its lease). WAIT
// counts its own connection's writes, so each wait writes a mark first:
// replication is in order, so a replica past the mark has every earlier
// write, the caller's included.
import { once } from 'node:events';
import { duplicateConnection, type RedisConnection } from '../redis.ts';
import { within } from '../within.ts';

// Waits in flight at once; more wait for a connection.
const CONNECTIONS = 16;
const READY_TIMEOUT_MS = 2_000;

export class ReplicaWait {
  readonly #source: RedisConnection;
  readonly #markKey: string;
  readonly #replicas: number;
  readonly #timeoutMs: number;
  readonly #idle: RedisConnection[] = [];
  readonly #all: RedisConnection[] = [];
  readonly #queued: Array<(connection: RedisConnection) => void> = [];

  constructor(source: RedisConnection, markKey: string, replicas: number, timeoutMs: number) {
    this.#source = source;
    this.#markKey = markKey;
    this.#replicas = replicas;
    this.#timeoutMs = timeoutMs;
    // Closed with the connection they were made from: nothing else knows of them.
    source.once('end', () => {
      for (const connection of this.#all) connection.disconnect();
    });
  }

  // Resolves once `replicas` replicas have every earlier write, or after the
  // timeout (the number that had them is not checked: see scripts.ts).
  async wait(): Promise<void> {
    const connection = await this.#take();
    try {
      await connection.incr(this.#markKey);
      await connection.wait(this.#replicas, this.#timeoutMs);
    } finally {
      this.#give(connection);
    }
  }

  async #take(): Promise<RedisConnection> {
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#all.length >= CONNECTIONS) return new Promise((resolve) => this.#queued.push(resolve));
    const connection = duplicateConnection(this.#source, 'tfcompute-replica-wait');
    connection.on('error', () => undefined);
    this.#all.push(connection);
    // An API connection has no offline queue: a command before it is ready would fail.
    if (connection.status !== 'ready') await within(once(connection, 'ready'), READY_TIMEOUT_MS).catch(() => undefined);
    return connection;
  }

  #give(connection: RedisConnection): void {
    const next = this.#queued.shift();
    if (next) next(connection);
    else this.#idle.push(connection);
  }
}
