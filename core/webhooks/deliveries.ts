// Queuing a delivery of an event to a webhook: its record, then its job on
// the delivery queue, both under the delivery's id, so doing it twice (a
// dispatcher that died before it acknowledged the event) queues it once.
import { createHash } from 'node:crypto';
import type { CloudEvent } from '../events/cloud-event.ts';
import { deliveryJobOptions, type DeliveryQueue } from '../queue.ts';
import { type AuditNote, EVERY_PROJECT, type Store, type WebhookRecord } from '../store/index.ts';

export type DeliveryDeps = { store: Store; deliveries: DeliveryQueue; attempts: number };

// The first delivery of an event to a webhook has an id made of both, so it
// is the same however often the event is handed on.
export function firstDeliveryId(eventId: string, webhookId: string): string {
  const digest = BigInt(`0x${createHash('sha256').update(`${eventId}\n${webhookId}`).digest('hex').slice(0, 24)}`);
  return `d${digest.toString(36).padStart(15, '0').slice(-15)}`;
}

// A project's webhook receives its project's events only; an every-project
// one, every event. (Pings are sent by name, not through here.)
export function wants(webhook: WebhookRecord, event: CloudEvent): boolean {
  if (!webhook.enabled || (webhook.eventTypes.length > 0 && !webhook.eventTypes.includes(event.type))) return false;
  return webhook.project === EVERY_PROJECT || webhook.project === projectOf(event);
}

// The project of the stack an event is about.
function projectOf(event: CloudEvent): string | undefined {
  const stack = event.data.stack as { project?: unknown } | undefined;
  return typeof stack?.project === 'string' ? stack.project : undefined;
}

export type NewDelivery = {
  webhook: WebhookRecord;
  event: CloudEvent;
  deliveryId: string;
  redeliveryOf?: string | undefined;
};

// Records deliveries and queues those not yet settled, in one go; returns
// the ids of those queued (not those whose webhook is gone, nor those that
// already succeeded or failed: a dispatcher handing an event on again).
// `audit`: deliveries a user asked for (a ping, a redelivery).
export async function queueDeliveries(
  deps: DeliveryDeps,
  deliveries: readonly NewDelivery[],
  audit?: AuditNote,
): Promise<string[]> {
  const createdAt = new Date().toISOString();
  const outcomes = await Promise.all(
    deliveries.map(({ webhook, event, deliveryId, redeliveryOf }) =>
      deps.store.webhooks.recordDelivery(
        {
          id: deliveryId,
          webhookId: webhook.id,
          eventId: event.id,
          eventType: event.type,
          event: JSON.stringify(event),
          redeliveryOf: redeliveryOf ?? null,
          createdAt,
        },
        audit,
      ),
    ),
  );
  const queued = deliveries.filter((_, i) => outcomes[i] === 'recorded' || outcomes[i] === 'pending');
  if (queued.length > 0) {
    await deps.deliveries.addBulk(
      queued.map(({ webhook, deliveryId }) => ({
        name: 'deliver',
        data: { deliveryId, webhookId: webhook.id },
        opts: deliveryJobOptions(deliveryId, deps.attempts),
      })),
    );
  }
  return queued.map((d) => d.deliveryId);
}
