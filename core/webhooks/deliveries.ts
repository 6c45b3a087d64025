// Queuing a delivery of an event to a webhook: its record, then its job on
// the delivery queue, both under the delivery's id, so doing it twice (a
// dispatcher that died before it acknowledged the event) queues it once.
import { createHash } from 'node:crypto';
import type { CloudEvent } from '../events/cloud-event.ts';
import { deliveryJobOptions, type DeliveryQueue } from '../queue.ts';
import type { Store, WebhookRecord } from '../store/index.ts';

export type DeliveryDeps = { store: Store; deliveries: DeliveryQueue; attempts: number };

// The first delivery of an event to a webhook has an id made of both, so it
// is the same however often the event is handed on.
export function firstDeliveryId(eventId: string, webhookId: string): string {
  const digest = BigInt(`0x${createHash('sha256').update(`${eventId}\n${webhookId}`).digest('hex').slice(0, 24)}`);
  return `d${digest.toString(36).padStart(15, '0').slice(-15)}`;
}

export function wants(webhook: WebhookRecord, type: string): boolean {
  return webhook.enabled && (webhook.eventTypes.length === 0 || webhook.eventTypes.includes(type));
}

// Records and queues one delivery; false if the webhook is gone.
export async function queueDelivery(deps: DeliveryDeps, webhook: WebhookRecord, event: CloudEvent, deliveryId: string, redeliveryOf?: string): Promise<boolean> {
  const outcome = await deps.store.webhooks.recordDelivery({
    id: deliveryId,
    webhookId: webhook.id,
    eventId: event.id,
    eventType: event.type,
    event: JSON.stringify(event),
    redeliveryOf: redeliveryOf ?? null,
    createdAt: new Date().toISOString(),
  });
  if (outcome === 'missing') return false;
  await deps.deliveries.add('deliver', { deliveryId, webhookId: webhook.id }, deliveryJobOptions(deliveryId, deps.attempts));
  return true;
}
