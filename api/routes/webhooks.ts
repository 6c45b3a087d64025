// /api/webhooks: register receivers of the lifecycle events, change and
// delete them, ping one, rotate its secret, and read and redo its deliveries.
// /api/event-types: the events and their data's schemas.
import { eventTypeDescriptions } from '../../core/events/catalogue.ts';
import { AppError } from '../../core/errors.ts';
import {
  Delivery,
  DeliveryId,
  DeliveryIdParams,
  DeliveryList,
  EventTypeList,
  PageQuery,
  Webhook,
  WebhookCreateRequest,
  WebhookId,
  WebhookIdParams,
  WebhookList,
  WebhookUpdateRequest,
  WebhookWithSecret,
} from '../../core/schemas/index.ts';
import { createWebhook, deleteWebhook, getDelivery, getWebhook, listDeliveries, listWebhooks, pingWebhook, redeliver, rotateSecret, updateWebhook, type WebhookDeps } from '../../core/webhooks/manage.ts';
import { isInstallationAdmin, principalOf } from '../access.ts';
import { auditOf, denial } from '../audit.ts';
import { INSTALLATION } from '../../core/store/index.ts';
import { json, problem, type Route } from '../route.ts';
import { parseOrThrow } from '../validate.ts';
import { unavailable } from './common.ts';

const TAG = 'webhooks';
const badRequest = problem('The body or an id is not valid, or the URL is refused (named in `errors`).');
const noWebhook = problem('No webhook with this id.');
const noKey = problem('The installation has no ENCRYPTION_KEY, which webhook secrets need.');
const noKeyOrFull = problem('The installation has no ENCRYPTION_KEY, which webhook secrets need (`encryption-key-not-set`), or has as many webhooks as WEBHOOK_LIMIT allows (`webhook-limit-reached`).');

function id(value: string | string[] | undefined, letter: 'w' | 'd'): string {
  const parsed = (letter === 'w' ? WebhookId : DeliveryId).safeParse(value);
  if (parsed.success) return parsed.data;
  throw new AppError('invalid-id', `${letter === 'w' ? 'webhook' : 'delivery'} ids are "${letter}" and 15 characters of 0-9 and a-z`);
}

export function webhookRoutes(deps: WebhookDeps): Route[] {
  return routes(deps).map(adminsOnly);
}

// Webhooks belong to the whole installation until they belong to projects, and
// their receiver URLs can carry secrets: only a caller who is an admin of
// every project (an owner, or an API_TOKENS entry with write) sees or changes
// them. Anyone else is told a webhook does not exist, and may not list or
// register any.
function adminsOnly(route: Route): Route {
  if (!route.path.startsWith('/api/webhooks')) return route;
  return {
    ...route,
    responses: { ...route.responses, 403: problem('Webhooks are for admins of every project (`insufficient-role`).') },
    async handle(req, res) {
      const principal = principalOf(req);
      if (!isInstallationAdmin(principal)) {
        if (req.params.webhookId !== undefined) throw denial(new AppError('webhook-not-found', `no webhook with id ${String(req.params.webhookId)}`), INSTALLATION);
        throw new AppError('insufficient-role', `webhooks belong to the whole installation: this needs the admin role in every project; "${principal.name}" has not`);
      }
      await route.handle(req, res);
    },
  };
}

function routes(deps: WebhookDeps): Route[] {
  return [
    {
      method: 'get',
      path: '/api/event-types',
      operationId: 'listEventTypes',
      tags: [TAG],
      summary: 'List the event types',
      description: "Every event type a webhook can receive, with the JSON Schema of its CloudEvent's `data`. An event whose data does not match its schema is not sent.",
      responses: { 200: json('The event types.', EventTypeList) },
      handle(_req, res) {
        res.json({ items: eventTypeDescriptions() });
      },
    },
    {
      method: 'post',
      path: '/api/webhooks',
      operationId: 'createWebhook',
      audit: { action: 'webhook.create', target: 'webhook' },
      tags: [TAG],
      summary: 'Register a webhook',
      description:
        'Events of the given types (all, if none are given) are POSTed to the URL as CloudEvents (structured JSON), signed the Standard Webhooks way with the secret in this response, which is not shown again. The URL is checked now and at every delivery: loopback, private, link-local and metadata addresses are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true. An installation has at most WEBHOOK_LIMIT webhooks (default 100).',
      request: { body: { content: { 'application/json': { schema: WebhookCreateRequest } }, required: true } },
      responses: { 201: json('Registered; `secret` is shown only here.', WebhookWithSecret), 400: badRequest, 409: noKeyOrFull, 503: unavailable },
      async handle(req, res) {
        const webhook = await createWebhook(deps, auditOf(req), parseOrThrow(WebhookCreateRequest, req.body ?? {}, 'body'), req.log);
        res.status(201).location(webhook.href).json(webhook);
      },
    },
    {
      method: 'get',
      path: '/api/webhooks',
      operationId: 'listWebhooks',
      tags: [TAG],
      summary: 'List webhooks',
      description: 'Every webhook of the installation, oldest first. Secrets are never shown.',
      request: { query: PageQuery },
      responses: { 200: json('A page of webhooks.', WebhookList), 400: badRequest, 503: unavailable },
      async handle(req, res) {
        const query = parseOrThrow(PageQuery, req.query, 'query');
        res.json(await listWebhooks(deps, query.limit, query.cursor));
      },
    },
    {
      method: 'get',
      path: '/api/webhooks/{webhookId}',
      operationId: 'getWebhook',
      tags: [TAG],
      summary: 'Get a webhook',
      description: 'The webhook, without its secret.',
      request: { params: WebhookIdParams },
      responses: { 200: json('The webhook.', Webhook), 400: badRequest, 404: noWebhook, 503: unavailable },
      async handle(req, res) {
        res.json(await getWebhook(deps, id(req.params.webhookId, 'w')));
      },
    },
    {
      method: 'patch',
      path: '/api/webhooks/{webhookId}',
      operationId: 'updateWebhook',
      audit: { action: 'webhook.update', target: 'webhook', param: 'webhookId' },
      tags: [TAG],
      summary: 'Change a webhook',
      description: 'Changes the fields given. `enabled: true` resumes deliveries, also after a receiver answered 410 Gone.',
      request: { params: WebhookIdParams, body: { content: { 'application/json': { schema: WebhookUpdateRequest } }, required: true } },
      responses: { 200: json('The webhook as changed.', Webhook), 400: badRequest, 404: noWebhook, 503: unavailable },
      async handle(req, res) {
        const webhookId = id(req.params.webhookId, 'w');
        res.json(await updateWebhook(deps, webhookId, parseOrThrow(WebhookUpdateRequest, req.body ?? {}, 'body'), req.log, auditOf(req)));
      },
    },
    {
      method: 'delete',
      path: '/api/webhooks/{webhookId}',
      operationId: 'deleteWebhook',
      audit: { action: 'webhook.delete', target: 'webhook', param: 'webhookId' },
      tags: [TAG],
      summary: 'Delete a webhook',
      description: 'Nothing more is sent to it; deliveries in flight end unsent.',
      request: { params: WebhookIdParams },
      responses: { 204: { description: 'Deleted.' }, 400: badRequest, 404: noWebhook, 503: unavailable },
      async handle(req, res) {
        await deleteWebhook(deps, id(req.params.webhookId, 'w'), auditOf(req));
        res.status(204).end();
      },
    },
    {
      method: 'post',
      path: '/api/webhooks/{webhookId}/ping',
      operationId: 'pingWebhook',
      audit: { action: 'webhook.ping', target: 'webhook', param: 'webhookId' },
      tags: [TAG],
      summary: 'Send a test event',
      description: 'Queues an `io.tfcompute.webhook.ping` event to this webhook (even a disabled one, and even while its circuit is open): a way to check the receiver and its signature check. An answer (but 408, 429 or 5xx) closes an open circuit at once, and the deliveries it held are sent. Follow the delivery at its `href`.',
      request: { params: WebhookIdParams },
      responses: { 202: json('Queued.', Delivery), 400: badRequest, 404: noWebhook, 409: noKey, 503: unavailable },
      async handle(req, res) {
        const delivery = await pingWebhook(deps, id(req.params.webhookId, 'w'), auditOf(req));
        res.status(202).location(delivery.href).json(delivery);
      },
    },
    {
      method: 'post',
      path: '/api/webhooks/{webhookId}/rotate-secret',
      operationId: 'rotateWebhookSecret',
      audit: { action: 'webhook.rotate-secret', target: 'webhook', param: 'webhookId' },
      tags: [TAG],
      summary: "Rotate a webhook's secret",
      description: 'A new secret, shown only in this response. For 24 hours deliveries carry two signatures, by the new secret and the old, so the receiver can change over without losing one.',
      request: { params: WebhookIdParams },
      responses: { 200: json('The webhook and its new secret.', WebhookWithSecret), 400: badRequest, 404: noWebhook, 409: noKey, 503: unavailable },
      async handle(req, res) {
        res.json(await rotateSecret(deps, id(req.params.webhookId, 'w'), auditOf(req)));
      },
    },
    {
      method: 'get',
      path: '/api/webhooks/{webhookId}/deliveries',
      operationId: 'listWebhookDeliveries',
      tags: [TAG],
      summary: "List a webhook's deliveries",
      description: 'Newest first, with every attempt: when, the status code, how long it took, and why it failed. The newest 1000 are listed, each kept for the job retention period.',
      request: { params: WebhookIdParams, query: PageQuery },
      responses: { 200: json('A page of deliveries.', DeliveryList), 400: badRequest, 404: noWebhook, 503: unavailable },
      async handle(req, res) {
        const query = parseOrThrow(PageQuery, req.query, 'query');
        res.json(await listDeliveries(deps, id(req.params.webhookId, 'w'), query.limit, query.cursor));
      },
    },
    {
      method: 'get',
      path: '/api/webhooks/{webhookId}/deliveries/{deliveryId}',
      operationId: 'getWebhookDelivery',
      tags: [TAG],
      summary: 'Get a delivery',
      description: 'One delivery and its attempts.',
      request: { params: DeliveryIdParams },
      responses: { 200: json('The delivery.', Delivery), 400: badRequest, 404: problem('No such webhook or delivery.'), 503: unavailable },
      async handle(req, res) {
        res.json(await getDelivery(deps, id(req.params.webhookId, 'w'), id(req.params.deliveryId, 'd')));
      },
    },
    {
      method: 'post',
      path: '/api/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
      operationId: 'redeliverWebhookDelivery',
      audit: { action: 'webhook.redeliver', target: 'webhook', param: 'webhookId' },
      tags: [TAG],
      summary: 'Send a delivery again',
      description: 'The same event (the same `id` and body, so a receiver that dedupes by `webhook-id` sees a duplicate) as a new delivery, signed anew.',
      request: { params: DeliveryIdParams },
      responses: { 202: json('The new delivery, queued.', Delivery), 400: badRequest, 404: problem('No such webhook or delivery.'), 409: noKey, 503: unavailable },
      async handle(req, res) {
        const delivery = await redeliver(deps, id(req.params.webhookId, 'w'), id(req.params.deliveryId, 'd'), auditOf(req));
        res.status(202).location(delivery.href).json(delivery);
      },
    },
  ];
}
