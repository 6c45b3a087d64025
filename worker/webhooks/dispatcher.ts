// Hands the recorded events on: reads the outbox stream (as one consumer of
// its group), makes each entry's CloudEvent, and queues a delivery of it to
// every enabled webhook that wants it (its type, and its stack's project or
// every project), then acknowledges the entry. A dispatcher that dies before
// it acknowledged leaves the entry pending, and the next one to look (itself
// restarted, or another worker's) hands it on again under the same delivery
// ids: an event is never lost, and queued once per webhook. An event whose
// data does not match its type's schema is not sent: it is logged and
// counted.
import { duplicateConnection, type RedisConnection } from '../../core/redis.ts';
import { toCloudEvent, type OutboxEntry } from '../../core/events/cloud-event.ts';
import type { Logger } from '../../core/logger.ts';
import {
  firstDeliveryId,
  queueDeliveries,
  wants,
  type DeliveryDeps,
  type NewDelivery,
} from '../../core/webhooks/deliveries.ts';

const BATCH = 100;
const BLOCK_MS = 1_000;
const TRIM_EVERY_MS = 60_000;
const PAUSE_AFTER_ERROR_MS = 500;

export type Dispatcher = { stop(): Promise<void> };

// `consumer`: this worker's name in the outbox's consumer group; `source`:
// the CloudEvents' source; `claimAfterMs`: when another dispatcher's
// unacknowledged entries are taken over.
export type DispatcherDeps = DeliveryDeps & {
  connection: RedisConnection;
  logger: Logger;
  consumer: string;
  source: string;
  claimAfterMs: number;
};

export async function startDispatcher(deps: DispatcherDeps): Promise<Dispatcher> {
  const { store, logger } = deps;
  await store.outbox.ensureGroup();
  // XREADGROUP blocks its connection.
  const reader = duplicateConnection(deps.connection, `tfcompute-dispatch:${deps.consumer}`);
  reader.on('error', (error) => logger.warn({ err: error.message }, 'redis dispatcher connection error'));
  let stopped = false;
  let lastTrim = 0;

  // A batch at a time: the deliveries recorded and queued together, then
  // the entries acknowledged together.
  async function dispatch(entries: OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const webhooks = await store.webhooks.all();
    const deliveries: NewDelivery[] = [];
    let invalid = 0;
    for (const entry of entries) {
      const built = toCloudEvent(entry, deps.source);
      if (!built.ok) {
        logger.error(
          { entryId: entry.entryId, type: entry.type, reason: built.reason },
          'event not sent: it does not match its schema',
        );
        invalid += 1;
        continue;
      }
      for (const webhook of webhooks.filter((w) => wants(w, built.event))) {
        deliveries.push({ webhook, event: built.event, deliveryId: firstDeliveryId(built.event.id, webhook.id) });
      }
    }
    await queueDeliveries(deps, deliveries);
    if (invalid > 0) await store.outbox.count('invalid', invalid);
    if (entries.length > invalid) await store.outbox.count('dispatched', entries.length - invalid);
    await store.outbox.ack(entries.map((e) => e.entryId));
  }

  // Its own unacknowledged entries first, at start and after any error (a
  // failover cut a batch short): they are not new to the group, and another
  // dispatcher would claim them only after `claimAfterMs`.
  let resume = true;
  const loop = (async () => {
    while (!stopped) {
      try {
        if (resume) {
          const own = await store.outbox.readOwnPending(deps.consumer, BATCH);
          await dispatch(own);
          resume = own.length === BATCH;
        }
        await dispatch(await store.outbox.claimStale(deps.consumer, deps.claimAfterMs, BATCH));
        await dispatch(await store.outbox.readNew(reader, deps.consumer, BATCH, BLOCK_MS));
        if (Date.now() - lastTrim > TRIM_EVERY_MS) {
          lastTrim = Date.now();
          await store.outbox.trim(lastTrim);
        }
      } catch (error) {
        if (stopped) break;
        resume = true;
        logger.warn({ err: (error as Error).message }, 'event dispatch failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_ERROR_MS));
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      // Ends a read that is blocked; what it had not acknowledged is claimed later.
      reader.disconnect();
      await loop;
    },
  };
}
