// A worker's share of the lifecycle events: the dispatcher that hands the
// outbox's events on to the webhooks, and the delivery queue's worker. Both
// run beside the Terraform jobs, on their own connections and queue, so no
// receiver can slow a stack down.
import type { RedisConnection } from '../../core/redis.ts';
import type { Config } from '../../core/config.ts';
import { eventSource } from '../../core/events/cloud-event.ts';
import { attemptsFor } from '../../core/events/retry-schedule.ts';
import type { Logger } from '../../core/logger.ts';
import { createDeliveryQueue } from '../../core/queue.ts';
import type { SecretBox } from '../../core/secret-box.ts';
import type { Store } from '../../core/store/index.ts';
import { within } from '../../core/within.ts';
import { startDispatcher } from './dispatcher.ts';
import { startDeliveries } from './deliveries.ts';

export async function startEvents(deps: { config: Config; connection: RedisConnection; store: Store; secrets: SecretBox | undefined; logger: Logger; workerId: string; leaseMs: number }): Promise<{ stop(): Promise<void> }> {
  const { config, connection, store, logger } = deps;
  const deliveries = createDeliveryQueue(connection, config.redisPrefix);
  deliveries.on('error', (error) => logger.warn({ err: error.message }, 'delivery queue error'));
  const dispatcher = await startDispatcher({
    store,
    deliveries,
    attempts: attemptsFor(config.webhooks),
    connection,
    logger,
    consumer: deps.workerId,
    source: eventSource(await store.outbox.seed()),
    // A dispatcher that has not acknowledged an entry for this long is gone.
    claimAfterMs: deps.leaseMs * 2,
  });
  const worker = startDeliveries({ connection, prefix: config.redisPrefix, store, deliveries, secrets: deps.secrets, logger, settings: config.webhooks, lockMs: deps.leaseMs });
  return {
    async stop() {
      // A delivery in flight ends within its timeout; one cut short is
      // recovered by BullMQ as stalled and sent again (at least once).
      await Promise.allSettled([dispatcher.stop(), within(worker.close(), 10_000)]);
      await within(deliveries.close(), 2_000).catch(() => undefined);
    },
  };
}
