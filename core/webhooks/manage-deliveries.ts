// The webhooks' deliveries, as the API shows them: read them, ping a
// webhook, send a delivery's event again.
import { AppError } from '../errors.ts';
import { buildEvent, eventId, type CloudEvent } from '../events/cloud-event.ts';
import { PING_EVENT_TYPE } from '../events/catalogue.ts';
import { newDeliveryId } from '../ids.ts';
import type { Delivery } from '../schemas/webhooks.ts';
import { type AuditContext, type DeliveryRecord, noted } from '../store/index.ts';
import { queueDeliveries } from './deliveries.ts';
import { found, type WebhookDeps, webhookNotFound } from './manage.ts';
import { box } from './secrets.ts';

export function toDelivery(record: DeliveryRecord): Delivery {
  return {
    id: record.id,
    webhook_id: record.webhookId,
    event: { id: record.eventId, type: record.eventType },
    status: record.status,
    error: record.error,
    redelivery_of: record.redeliveryOf,
    attempts: record.attempts,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    href: `/api/webhooks/${record.webhookId}/deliveries/${record.id}`,
  };
}

async function foundDelivery(deps: WebhookDeps, webhookId: string, deliveryId: string): Promise<DeliveryRecord> {
  const delivery = await deps.store.webhooks.getDelivery(deliveryId);
  if (!delivery || delivery.webhookId !== webhookId)
    throw new AppError(
      'delivery-not-found',
      `webhook ${webhookId} has no delivery ${deliveryId} (deliveries are kept for the job retention period)`,
    );
  return delivery;
}

// A ping event, delivered to this webhook only (even when it is disabled or
// subscribes to other types: it is asked for by name).
export function pingEvent(webhookId: string, source: string, sequence: number, at = new Date()): CloudEvent {
  const built = buildEvent(
    {
      id: eventId(`ping-${newDeliveryId().slice(1)}`),
      type: PING_EVENT_TYPE,
      subject: webhookId,
      time: at.toISOString(),
      sequence,
      data: { webhook: { id: webhookId, href: `/api/webhooks/${webhookId}` } },
    },
    source,
  );
  if (!built.ok) throw new Error(`the ping event is not valid: ${built.reason}`);
  return built.event;
}

export async function pingWebhook(deps: WebhookDeps, id: string, audit: AuditContext): Promise<Delivery> {
  box(deps);
  const webhook = await found(deps, id);
  const event = pingEvent(id, deps.source, await deps.store.webhooks.nextPingSequence(id));
  const deliveryId = newDeliveryId();
  if ((await queueDeliveries(deps, [{ webhook, event, deliveryId }], noted(audit, 'webhook.ping'))).length === 0)
    throw webhookNotFound(id);
  return getDelivery(deps, id, deliveryId);
}

export async function getDelivery(deps: WebhookDeps, webhookId: string, deliveryId: string): Promise<Delivery> {
  return toDelivery(await foundDelivery(deps, webhookId, deliveryId));
}

export async function listDeliveries(deps: WebhookDeps, webhookId: string, limit: number, cursor: string | undefined) {
  await found(deps, webhookId);
  const page = await deps.store.webhooks.listDeliveries(webhookId, limit, cursor);
  return { items: page.items.map(toDelivery), next_cursor: page.nextCursor };
}

// The same event (same id, same body) as a new delivery.
export async function redeliver(
  deps: WebhookDeps,
  webhookId: string,
  deliveryId: string,
  audit: AuditContext,
): Promise<Delivery> {
  box(deps);
  const webhook = await found(deps, webhookId);
  const original = await foundDelivery(deps, webhookId, deliveryId);
  const again = newDeliveryId();
  await queueDeliveries(
    deps,
    [{ webhook, event: JSON.parse(original.event) as CloudEvent, deliveryId: again, redeliveryOf: deliveryId }],
    noted(audit, 'webhook.redeliver'),
  );
  return getDelivery(deps, webhookId, again);
}
