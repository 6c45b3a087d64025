// Lets a request wait for a job to finish (Prefer: wait) by listening to the
// workers' job events on one shared Redis subscription.
import { EventEmitter, once } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.ts';
import type { JobEvent } from '../core/store.ts';

export class JobWaiter {
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #events = new EventEmitter();

  constructor(subscriber: Redis, channel: string, logger: Logger) {
    this.#subscriber = subscriber;
    this.#channel = channel;
    this.#events.setMaxListeners(0);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      try {
        const event = JSON.parse(message) as JobEvent;
        if (event.status === 'succeeded' || event.status === 'failed') this.#events.emit(event.jobId, event);
      } catch (error) {
        logger.warn({ err: error }, 'unreadable job event');
      }
    });
  }

  async start(): Promise<void> {
    await this.#subscriber.subscribe(this.#channel);
  }

  // Resolves when the job finishes or the signal aborts. `isFinished` is
  // checked after listening starts, so an event cannot slip between the two.
  async waitFor(jobId: string, isFinished: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
    const done = new AbortController();
    const finished = once(this.#events, jobId, { signal: AbortSignal.any([signal, done.signal]) }).catch(() => undefined);
    try {
      if (await isFinished()) return;
      await finished;
    } finally {
      done.abort();
    }
  }
}
