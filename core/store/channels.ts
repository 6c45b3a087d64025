// The store's pub/sub: job state changes (for requests waiting on a job),
// log writes (for live log readers) and cancel requests (for the worker
// running the job). Subscribing needs a connection of its own.
import type { RedisConnection } from '../redis.ts';
import type { JobStatus, StackStatus } from '../schemas/index.ts';
import type { ContextOf } from './context.ts';

export type JobEvent = { stackId: string; jobId: string; status: JobStatus; stackStatus?: StackStatus };

export type Message =
  | { topic: 'job'; event: JobEvent }
  | { topic: 'log'; jobId: string }
  | { topic: 'cancel'; jobId: string };
export type Topic = Message['topic'];

export class Channels {
  readonly #c: ContextOf<'redis' | 'keys'>;

  constructor(context: ContextOf<'redis' | 'keys'>) {
    this.#c = context;
  }

  async publishJobEvent(event: JobEvent): Promise<void> {
    await this.#c.redis.publish(this.#c.keys.eventsChannel, JSON.stringify(event));
  }

  // Asks the worker running the job to interrupt it.
  async requestCancel(jobId: string): Promise<void> {
    await this.#c.redis.publish(this.#c.keys.cancelChannel, jobId);
  }

  // Subscribes `subscriber` (a connection used for nothing else) to the
  // topics; `onError` hears of messages that cannot be read.
  async subscribe(
    subscriber: RedisConnection,
    topics: readonly Topic[],
    onMessage: (message: Message) => void,
    onError: (error: unknown) => void = () => undefined,
  ): Promise<void> {
    const { keys } = this.#c;
    const channels: Record<string, Topic> = {
      [keys.eventsChannel]: 'job',
      [keys.logsChannel]: 'log',
      [keys.cancelChannel]: 'cancel',
    };
    subscriber.on('message', (channel: string, text: string) => {
      const topic = channels[channel];
      if (topic === undefined || !topics.includes(topic)) return;
      if (topic !== 'job') return onMessage({ topic, jobId: text });
      let event: JobEvent;
      try {
        event = JSON.parse(text) as JobEvent;
      } catch (error) {
        return onError(error);
      }
      onMessage({ topic, event });
    });
    const wanted = Object.keys(channels).filter((channel) => topics.includes(channels[channel] as Topic));
    await subscriber.subscribe(...wanted);
  }
}
