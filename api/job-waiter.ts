// Lets requests wait on jobs without polling: Prefer: wait waits for a job to
// finish, a live log waits for its next write. One shared Redis subscription
// carries the workers' job events and log notices.
import { EventEmitter, once } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.ts';
import { FINISHED_JOB_STATUSES } from '../core/schemas.ts';
import type { JobEvent } from '../core/store.ts';

export class JobWaiter {
  readonly #subscriber: Redis;
  readonly #eventsChannel: string;
  readonly #logsChannel: string;
  readonly #events = new EventEmitter();

  constructor(subscriber: Redis, channels: { events: string; logs: string }, logger: Logger) {
    this.#subscriber = subscriber;
    this.#eventsChannel = channels.events;
    this.#logsChannel = channels.logs;
    this.#events.setMaxListeners(0);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#logsChannel) {
        this.#events.emit(`activity:${message}`);
        return;
      }
      if (channel !== this.#eventsChannel) return;
      try {
        const event = JSON.parse(message) as JobEvent;
        this.#events.emit(`activity:${event.jobId}`);
        if (FINISHED_JOB_STATUSES.includes(event.status)) this.#events.emit(event.jobId, event);
      } catch (error) {
        logger.warn({ err: error }, 'unreadable job event');
      }
    });
  }

  async start(): Promise<void> {
    await this.#subscriber.subscribe(this.#eventsChannel, this.#logsChannel);
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

  // Resolves at the job's next event or log write, or when the signal aborts.
  // Listening starts at the call.
  async nextActivity(jobId: string, signal: AbortSignal): Promise<void> {
    await once(this.#events, `activity:${jobId}`, { signal }).catch(() => undefined);
  }
}
