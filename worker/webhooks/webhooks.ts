// A worker's share of the lifecycle events: the dispatcher that hands the
// outbox's events on to the webhooks, and the delivery queue's worker. Both
// run beside the Terraform jobs, on their own connections and queue, so no
// receiver can slow a stack down.
import { eventSource } from '../../core/events/cloud-event.ts';
import { attemptsFor } from '../../core/events/retry-schedule.ts';
import type { Logger } from '../../core/logger.ts';
import { createDeliveryQueue } from '../../core/queue.ts';
import type { SecretBox } from '../../core/secret-box.ts';
import type { Store } from '../../core/store/index.ts';
import { within } from '../../core/within.ts';
import type { QueueSite } from '../queues.ts';
import { type DeliverySettings, startDeliveries } from './deliveries.ts';
import { startDispatcher } from './dispatcher.ts';

export type WebhookDeps = {
  site: QueueSite;
  store: Store;
  secrets: SecretBox | undefined;
  logger: Logger;
  workerId: string;
  settings: DeliverySettings;
};

export async function startWebhooks(deps: WebhookDeps): Promise<{ stop(): Promise<void> }> {
  const { site, store, logger } = deps;
  const deliveries = createDeliveryQueue(site.connection, site.prefix);
  deliveries.on('error', (error) => logger.warn({ err: error.message }, 'delivery queue error'));
  const dispatcher = await startDispatcher({
    store,
    deliveries,
    attempts: attemptsFor(deps.settings),
    connection: site.connection,
    logger,
    consumer: deps.workerId,
    source: eventSource(await store.outbox.seed()),
    // A dispatcher that has not acknowledged an entry for this long is gone.
    claimAfterMs: site.leaseMs * 2,
  });
  const worker = startDeliveries({ site, store, deliveries, secrets: deps.secrets, logger, settings: deps.settings });
  return {
    async stop() {
      // A delivery in flight ends within its timeout; one cut short is
      // recovered by BullMQ as stalled and sent again (at least once).
      await Promise.allSettled([dispatcher.stop(), within(worker.close(), 10_000)]);
      await within(deliveries.close(), 2_000).catch(() => undefined);
    },
  };
}
