// Webhooks and their deliveries as the API takes and shows them.
import { z } from 'zod';
import { EVENT_TYPES } from '../events/catalogue.ts';
import { DeliveryId, ProjectName, WebhookId } from './identifiers.ts';

const ReceiverUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2048)
  .refine(
    (value) => !/^[a-z]+:\/\/[^/]*@/i.test(value),
    'must not carry a user name or password (put a secret in the receiver, and check the signature)',
  )
  .refine((value) => !value.includes('#'), 'must not have a fragment')
  .meta({
    description:
      'Where events are POSTed. Loopback, private, link-local and metadata addresses are refused unless ' +
      'WEBHOOK_ALLOW_PRIVATE_NETWORKS=true.',
    example: 'https://hooks.example.com/tfcompute',
  });

const EventTypes = z
  .array(z.enum(EVENT_TYPES))
  .max(EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, 'must not repeat a type')
  .meta({ description: 'The event types sent to it (see GET /api/event-types); empty or left out: every type.' });

const Description = z.string().max(500).meta({ description: 'For people: what the webhook is for.' });

export const WebhookCreateRequest = z
  .strictObject({ url: ReceiverUrl, event_types: EventTypes.default([]), description: Description.default('') })
  .meta({
    id: 'WebhookCreateRequest',
    example: {
      url: 'https://hooks.example.com/tfcompute',
      event_types: ['io.tfcompute.stack.ready', 'io.tfcompute.stack.failed'],
      description: 'CI pipeline',
    },
  });

export const WebhookUpdateRequest = z
  .strictObject({
    url: ReceiverUrl.optional(),
    event_types: EventTypes.optional(),
    description: Description.optional(),
    enabled: z
      .boolean()
      .optional()
      .meta({ description: 'false stops deliveries; true resumes them (also after a receiver answered 410).' }),
  })
  .meta({ id: 'WebhookUpdateRequest', example: { enabled: true } });

const Timestamp = z.iso.datetime();

const Circuit = z
  .object({
    state: z.enum(['closed', 'open', 'half-open']).meta({
      description:
        'closed: deliveries are attempted. open: the receiver failed WEBHOOK_CIRCUIT_FAILURES attempts ' +
        'in a row (within 10 minutes), so nothing is sent to it until `until`; its deliveries wait, ' +
        'without using attempts. half-open: the pause is over and the next attempt decides (success ' +
        'closes it, failure opens it again). A successful ping closes it at once.',
    }),
    until: Timestamp.nullable().meta({ description: 'Open or half-open: when the pause ends (ended).' }),
    reason: z.string().nullable().meta({ description: 'Open or half-open: why it opened.' }),
    changed_at: Timestamp.nullable().meta({ description: 'When it last opened or closed; null if it never has.' }),
  })
  .meta({
    id: 'WebhookCircuit',
    description: 'The circuit breaker that stops deliveries to a receiver that fails every attempt.',
  });

export const Webhook = z
  .object({
    id: WebhookId,
    project: ProjectName.nullable().meta({
      description:
        'The project whose events it receives, and whose admins see and change it; null: every project: ' +
        "an owner's webhook (or one from before projects), for owners and admins of every project.",
    }),
    url: z.string(),
    event_types: z.array(z.string()),
    description: z.string(),
    enabled: z.boolean(),
    disabled_reason: z
      .string()
      .nullable()
      .meta({ description: 'Why deliveries stopped, when the service stopped them (a receiver that answered 410).' }),
    previous_secret_expires_at: Timestamp.nullable().meta({
      description: 'After a rotation, until when the previous secret still signs beside the new one.',
    }),
    circuit: Circuit,
    created_by: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
    href: z.string(),
    deliveries_href: z.string(),
  })
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof Webhook>;

export const WebhookWithSecret = Webhook.extend({
  secret: z.string().meta({
    description:
      'The signing secret ("whsec_" and base64): shown only in this response. Verify `webhook-signature` ' +
      'with it (Standard Webhooks).',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }),
}).meta({ id: 'WebhookWithSecret' });

export const WebhookList = z
  .object({ items: z.array(Webhook), next_cursor: z.string().nullable() })
  .meta({ id: 'WebhookList', description: 'A page of webhooks, oldest first.' });

export const DeliveryAttempt = z
  .object({
    attempt: z.int(),
    at: Timestamp,
    status_code: z.int().nullable().meta({
      description:
        "The receiver's HTTP status; null when none came (a timeout, a connection failure, a refused address).",
    }),
    duration_ms: z.int(),
    error: z.string().nullable(),
  })
  .meta({ id: 'DeliveryAttempt' });

export const Delivery = z
  .object({
    id: DeliveryId,
    webhook_id: WebhookId,
    event: z.object({ id: z.string(), type: z.string() }),
    status: z
      .enum(['pending', 'succeeded', 'failed'])
      .meta({ description: 'pending: being tried (or waiting to be tried again); failed: given up.' }),
    error: z.string().nullable(),
    redelivery_of: DeliveryId.nullable(),
    attempts: z.array(DeliveryAttempt),
    created_at: Timestamp,
    updated_at: Timestamp,
    href: z.string(),
  })
  .meta({ id: 'Delivery' });
export type Delivery = z.infer<typeof Delivery>;

export const DeliveryList = z
  .object({ items: z.array(Delivery), next_cursor: z.string().nullable() })
  .meta({ id: 'DeliveryList', description: 'A page of deliveries, newest first.' });

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Page size, 1-100.' }),
  cursor: z.string().max(200).optional().meta({ description: 'Opaque cursor from a previous page.' }),
});

export const WebhookListQuery = PageQuery.extend({
  project: ProjectName.optional().meta({
    description: 'Only the webhooks of this project (every-project ones are left out).',
  }),
});

export const WebhookIdParams = z.object({ webhookId: WebhookId });
export const DeliveryIdParams = z.object({ webhookId: WebhookId, deliveryId: DeliveryId });

export const EventTypeList = z
  .object({
    items: z.array(
      z.object({
        type: z.string(),
        description: z.string(),
        data_schema: z
          .record(z.string(), z.unknown())
          .meta({ description: "JSON Schema (2020-12) of the event's `data`." }),
      }),
    ),
  })
  .meta({ id: 'EventTypeList' });
