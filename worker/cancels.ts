// Cancel requests for running jobs reach every worker on the store's
// channel; the one running the job interrupts its Terraform.
import type { Logger } from '../core/logger.ts';
import { closeRedis, duplicateConnection, type RedisConnection } from '../core/redis.ts';
import type { Store } from '../core/store/index.ts';

export type CancelDeps = { connection: RedisConnection; store: Store; workerId: string; logger: Logger };

// `cancel`: interrupts the job if this worker runs it; false if it does not.
export async function startCancels(
  deps: CancelDeps,
  cancel: (jobId: string) => boolean,
): Promise<{ stop(): Promise<void> }> {
  const { logger } = deps;
  // A subscribed connection does nothing else.
  const subscriber = duplicateConnection(deps.connection, `tfcompute-worker-cancels:${deps.workerId}`);
  subscriber.on('error', (error) => logger.warn({ err: error.message }, 'redis cancel subscriber error'));
  await deps.store.channels.subscribe(subscriber, ['cancel'], (message) => {
    if (message.topic !== 'cancel') return;
    if (cancel(message.jobId)) logger.info({ jobId: message.jobId }, 'cancel requested; interrupting terraform');
  });
  return { stop: () => closeRedis(subscriber) };
}
