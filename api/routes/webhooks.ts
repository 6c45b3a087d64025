// /api/webhooks: register receivers of the lifecycle events, change and
// delete them, ping one, rotate its secret, and read and redo its deliveries.
import {
  Delivery,
  DeliveryId,
  DeliveryIdParams,
  DeliveryList,
  PageQuery,
  ProjectQuery,
  Webhook,
  WebhookCreateRequest,
  WebhookIdParams,
  WebhookList,
  WebhookListQuery,
  WebhookUpdateRequest,
  WebhookWithSecret,
} from '../../core/schemas/index.ts';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhooks,
  rotateSecret,
  updateWebhook,
  type WebhookDeps,
} from '../../core/webhooks/manage.ts';
import { getDelivery, listDeliveries, pingWebhook, redeliver } from '../../core/webhooks/manage-deliveries.ts';
import { administeredProjects, administeredWebhook, webhookProject } from '../access.ts';
import { principalOf } from '../principal.ts';
import { auditOf } from '../audit.ts';
import { json, problem, type Route, route } from '../route.ts';
import { parseParam } from '../validate.ts';
import { unavailable, noProject, noListedProject, belowAdmin } from './common.ts';

const TAG = 'webhooks';
const noDelivery = problem('No such webhook or delivery.');
const badRequest = problem('The body or an id is not valid, or the URL is refused (named in `errors`).');
const noWebhook = problem(
  'No webhook with this id, or one in a project the caller has no role in (or, for an every-project webhook, is not ' +
    'an admin of every project): both answer alike.',
);
const notAdmin = problem("The caller's role in the webhook's project is below admin (`insufficient-role`).");
const noKey = problem('The installation has no ENCRYPTION_KEY, which webhook secrets need.');
const noKeyOrFull = problem(
  'The installation has no ENCRYPTION_KEY, which webhook secrets need (`encryption-key-not-set`), or has as many ' +
    'webhooks as WEBHOOK_LIMIT allows, or the project as many as WEBHOOK_LIMIT_PER_PROJECT allows ' +
    '(`webhook-limit-reached`, naming which).',
);

export function webhookRoutes(deps: WebhookDeps): Route[] {
  return routes(deps).map((declared) =>
    declared.path.startsWith('/api/webhooks/{webhookId}') ? projectAdminsOnly(deps, declared) : declared,
  );
}

// A webhook, its deliveries included, is its project's admins' (see
// requireWebhookAdmin): the route runs once the caller is found to be one.
function projectAdminsOnly(deps: WebhookDeps, declared: Route): Route {
  return {
    ...declared,
    responses: { ...declared.responses, 403: notAdmin },
    authorize: (req, { params }) => administeredWebhook(deps, principalOf(req), params.webhookId),
  };
}

// A delivery id from a path, or the 400 of a malformed one.
export function deliveryIdParam(value: unknown): string {
  return parseParam('deliveryId', DeliveryId, value);
}

function routes(deps: WebhookDeps): Route[] {
  return [
    route({
      method: 'post',
      path: '/api/webhooks',
      operationId: 'createWebhook',
      audit: { action: 'webhook.create', target: 'webhook' },
      tags: [TAG],
      summary: 'Register a webhook',
      description:
        "Events of the given types (all, if none are given) of the project's stacks are POSTed to the URL as " +
        'CloudEvents (structured JSON), signed the Standard Webhooks way with the secret in this response, which ' +
        'is not shown again. It belongs to `?project=` (its admins), or, without it, to the one project the caller ' +
        'is an admin of; an owner or an admin of every project registers it for every project without `?project=`. ' +
        'The URL is checked now and at every delivery: loopback, private, link-local and metadata addresses are ' +
        'refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true. An installation has at most WEBHOOK_LIMIT webhooks ' +
        '(default 100), a project at most WEBHOOK_LIMIT_PER_PROJECT (default 20).',
      request: {
        query: ProjectQuery,
        body: { content: { 'application/json': { schema: WebhookCreateRequest } }, required: true },
      },
      responses: {
        201: json('Registered; `secret` is shown only here.', WebhookWithSecret),
        400: problem(
          'The body is not valid, or the URL is refused (named in `errors`); or no `?project=` from a caller who is ' +
            'an admin of several projects (`project-required`).',
        ),
        403: belowAdmin,
        404: noProject,
        409: noKeyOrFull,
        503: unavailable,
      },
      authorize: (req, { query }) => webhookProject(req, query.project),
      async handle(req, res, { authorized: project, body }) {
        const webhook = await createWebhook(deps, auditOf(req), project, body, req.log);
        res.status(201).location(webhook.href).json(webhook);
      },
    }),
    route({
      method: 'get',
      path: '/api/webhooks',
      operationId: 'listWebhooks',
      tags: [TAG],
      summary: 'List webhooks',
      description:
        'The webhooks of the projects the caller is an admin of (of every project, and every-project ones, for ' +
        'owners and admins of every project), or of `?project=` only; oldest first. Secrets are never shown.',
      request: { query: WebhookListQuery },
      responses: {
        200: json('A page of webhooks.', WebhookList),
        400: badRequest,
        403: problem('The caller is an admin of no project, or of not `?project=` (`insufficient-role`).'),
        404: noListedProject,
        503: unavailable,
      },
      async handle(req, res, { query }) {
        const projects = administeredProjects(principalOf(req), query.project);
        res.json(await listWebhooks(deps, projects, query.limit, query.cursor));
      },
    }),
    route({
      method: 'get',
      path: '/api/webhooks/{webhookId}',
      operationId: 'getWebhook',
      tags: [TAG],
      summary: 'Get a webhook',
      description: 'The webhook, without its secret.',
      request: { params: WebhookIdParams },
      responses: { 200: json('The webhook.', Webhook), 400: badRequest, 404: noWebhook, 503: unavailable },
      async handle(_req, res, { params }) {
        res.json(await getWebhook(deps, params.webhookId));
      },
    }),
    route({
      method: 'patch',
      path: '/api/webhooks/{webhookId}',
      operationId: 'updateWebhook',
      audit: { action: 'webhook.update', target: 'webhook', param: 'webhookId' },
      tags: [TAG],
      summary: 'Change a webhook',
      description:
        'Changes the fields given. `enabled: true` resumes deliveries, also after a receiver answered 410 Gone.',
      request: {
        params: WebhookIdParams,
        body: { content: { 'application/json': { schema: WebhookUpdateRequest } }, required: true },
      },
      responses: { 200: json('The webhook as changed.', Webhook), 400: badRequest, 404: noWebhook, 503: unavailable },
      async handle(req, res, { params, body }) {
        res.json(await updateWebhook(deps, params.webhookId, body, req.log, auditOf(req)));
      },
    }),
    route({
      method: 'delete',
      path: '/api/webhooks/{webhookId}',
      operationId: 'deleteWebhook',
      audit: { action: 'webhook.delete', target: 'webhook', param: 'webhookId' },
      tags: [TAG],
      summary: 'Delete a webhook',
      description: 'Nothing more is sent to it; deliveries in flight end unsent.',
      request: { params: WebhookIdParams },
      responses: { 204: { description: 'Deleted.' }, 400: badRequest, 404: noWebhook, 503: unavailable },
      async handle(req, res, { params }) {
        await deleteWebhook(deps, params.webhookId, auditOf(req));
        res.status(204).end();
      },
    }),
    route({
      method: 'post',
      path: '/api/webhooks/{webhookId}/ping',
      operationId: 'pingWebhook',
      audit: { action: 'webhook.ping', target: 'webhook', param: 'webhookId' },
      tags: [TAG],
      summary: 'Send a test event',
      description:
        'Queues an `io.tfcompute.webhook.ping` event to this webhook (even a disabled one, and even while its ' +
        'circuit is open): a way to check the receiver and its signature check. An answer (but 408, 429 or 5xx) ' +
        'closes an open circuit at once, and the deliveries it held are sent. Follow the delivery at its `href`.',
      request: { params: WebhookIdParams },
      responses: { 202: json('Queued.', Delivery), 400: badRequest, 404: noWebhook, 409: noKey, 503: unavailable },
      async handle(req, res, { params }) {
        const delivery = await pingWebhook(deps, params.webhookId, auditOf(req));
        res.status(202).location(delivery.href).json(delivery);
      },
    }),
    route({
      method: 'post',
      path: '/api/webhooks/{webhookId}/rotate-secret',
      operationId: 'rotateWebhookSecret',
      audit: { action: 'webhook.rotate-secret', target: 'webhook', param: 'webhookId' },
      tags: [TAG],
      summary: "Rotate a webhook's secret",
      description:
        'A new secret, shown only in this response. For 24 hours deliveries carry two signatures, by the new secret ' +
        'and the old, so the receiver can change over without losing one.',
      request: { params: WebhookIdParams },
      responses: {
        200: json('The webhook and its new secret.', WebhookWithSecret),
        400: badRequest,
        404: noWebhook,
        409: noKey,
        503: unavailable,
      },
      async handle(req, res, { params }) {
        res.json(await rotateSecret(deps, params.webhookId, auditOf(req)));
      },
    }),
    route({
      method: 'get',
      path: '/api/webhooks/{webhookId}/deliveries',
      operationId: 'listWebhookDeliveries',
      tags: [TAG],
      summary: "List a webhook's deliveries",
      description:
        'Newest first, with every attempt: when, the status code, how long it took, and why it failed. The newest ' +
        '1000 are listed, each kept for the job retention period.',
      request: { params: WebhookIdParams, query: PageQuery },
      responses: {
        200: json('A page of deliveries.', DeliveryList),
        400: badRequest,
        404: noWebhook,
        503: unavailable,
      },
      async handle(_req, res, { params, query }) {
        res.json(await listDeliveries(deps, params.webhookId, query.limit, query.cursor));
      },
    }),
    route({
      method: 'get',
      path: '/api/webhooks/{webhookId}/deliveries/{deliveryId}',
      operationId: 'getWebhookDelivery',
      tags: [TAG],
      summary: 'Get a delivery',
      description: 'One delivery and its attempts.',
      request: { params: DeliveryIdParams },
      responses: {
        200: json('The delivery.', Delivery),
        400: badRequest,
        404: noDelivery,
        503: unavailable,
      },
      async handle(_req, res, { params }) {
        res.json(await getDelivery(deps, params.webhookId, params.deliveryId));
      },
    }),
    route({
      method: 'post',
      path: '/api/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
      operationId: 'redeliverWebhookDelivery',
      audit: { action: 'webhook.redeliver', target: 'webhook', param: 'webhookId' },
      tags: [TAG],
      summary: 'Send a delivery again',
      description:
        'The same event (the same `id` and body, so a receiver that dedupes by `webhook-id` sees a duplicate) as a ' +
        'new delivery, signed anew.',
      request: { params: DeliveryIdParams },
      responses: {
        202: json('The new delivery, queued.', Delivery),
        400: badRequest,
        404: noDelivery,
        409: noKey,
        503: unavailable,
      },
      async handle(req, res, { params }) {
        const delivery = await redeliver(deps, params.webhookId, params.deliveryId, auditOf(req));
        res.status(202).location(delivery.href).json(delivery);
      },
    }),
  ];
}
