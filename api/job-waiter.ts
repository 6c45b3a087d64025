// Lets requests wait on jobs without polling: Prefer: wait waits for a job to
// finish, a live log waits for its next write, the console's live pages hear
// every job event. One shared subscription carries the job events and log
// notices.
import { EventEmitter, once } from 'node:events';
import type { RedisConnection } from '../core/redis.ts';
import type { Logger } from '../core/logger.ts';
import { SETTLED_JOB_STATUSES } from '../core/schemas/index.ts';
import type { JobEvent, Store } from '../core/store/index.ts';

export class JobWaiter {
  readonly #logger: Logger;
  readonly #events = new EventEmitter();

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#events.setMaxListeners(0);
  }

  // `subscriber` is a connection for this subscription only.
  async start(store: Store, subscriber: RedisConnection): Promise<void> {
    await store.channels.subscribe(
      subscriber,
      ['job', 'log'],
      (message) => {
        if (message.topic === 'log') {
          this.#events.emit(`activity:${message.jobId}`);
          return;
        }
        if (message.topic !== 'job') return;
        const { event } = message;
        this.#events.emit('job', event);
        this.#events.emit(`activity:${event.jobId}`);
        if (SETTLED_JOB_STATUSES.includes(event.status)) this.#events.emit(event.jobId, event);
      },
      (error) => this.#logger.warn({ err: error }, 'unreadable job event'),
    );
  }

  // Resolves when the job settles (finishes, or waits for approval) or the
  // signal aborts. `isSettled` is checked after listening starts, so an event
  // cannot slip between the two.
  async waitFor(jobId: string, isSettled: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
    const done = new AbortController();
    const finished = once(this.#events, jobId, { signal: AbortSignal.any([signal, done.signal]) }).catch(
      () => undefined,
    );
    try {
      if (await isSettled()) return;
      await finished;
    } finally {
      done.abort();
    }
  }

  // Calls `listener` with every job event (a job queued, started, waiting
  // for approval or finished) until the signal aborts: the console's live pages.
  onJobEvent(listener: (event: JobEvent) => void, signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#events.on('job', listener);
    signal.addEventListener('abort', () => this.#events.off('job', listener), { once: true });
  }

  // Resolves at the job's next event or log write, or when the signal aborts.
  // Listening starts at the call.
  async nextActivity(jobId: string, signal: AbortSignal): Promise<void> {
    await once(this.#events, `activity:${jobId}`, { signal }).catch(() => undefined);
  }
}
