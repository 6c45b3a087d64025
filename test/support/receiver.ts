// A real HTTP receiver of webhook deliveries on loopback: it keeps every
// request it gets, answers as the test says, and lets a test wait for the
// requests it expects.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

// Settings of a system that sends events to loopback receivers, retrying
// fast; a receiver's circuit, once open, half-opens after a second.
export const EVENTS_ENV = {
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_BACKOFF_MS: '200',
  WEBHOOK_BACKOFF_MAX_MS: '1000',
  WEBHOOK_CIRCUIT_OPEN_SECONDS: '1',
};

export type Received = {
  at: number;
  path: string;
  headers: Record<string, string>;
  body: string;
  event: Record<string, unknown> & {
    id: string;
    type: string;
    subject: string;
    sequence: string;
    data: Record<string, unknown>;
  };
};

// What to answer a request: a status, headers, and optionally a delay (a
// slow receiver) or a body.
export type Answer = { status: number; headers?: Record<string, string>; delayMs?: number; body?: string };

export class Receiver {
  readonly requests: Received[] = [];
  answer: (request: Received, index: number) => Answer = () => ({ status: 204 });
  readonly #server: http.Server;
  readonly #waiters = new Set<() => void>();
  url = '';

  constructor() {
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let event = {} as Received['event'];
        try {
          event = JSON.parse(body) as Received['event'];
        } catch {
          // kept as it came; the test says what it expected
        }
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        const received: Received = { at: Date.now(), path: req.url ?? '', headers, body, event };
        const index = this.requests.push(received) - 1;
        const answer = this.answer(received, index);
        const reply = () => {
          res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
          for (const wake of this.#waiters) wake();
        };
        if (answer.delayMs) setTimeout(reply, answer.delayMs);
        else reply();
      });
    });
  }

  async start(): Promise<this> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
    return this;
  }

  // The events received (each id once: a duplicate delivery is not a new event).
  events(): Received['event'][] {
    const seen = new Map<string, Received['event']>();
    for (const r of this.requests) if (!seen.has(r.event.id)) seen.set(r.event.id, r.event);
    return [...seen.values()];
  }

  // Resolves once `done()` holds of what was received, or fails after `timeoutMs`.
  async waitFor(done: (requests: Received[]) => boolean, what: string, timeoutMs = 30_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.requests)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `the receiver did not get ${what} within ${timeoutMs} ms; it got: ${this.requests.map((r) => r.event.type).join(', ')}`,
        );
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
    return this.requests;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
