// The webhooks' use cases: register, read, change, delete, rotate the
// secret. A secret (secrets.ts) is shown once, when it is made, and stored
// sealed; a receiver's address is checked before it is stored. Deliveries,
// pings and redeliveries are manage-deliveries.ts.
import { AppError, projectNotFound } from '../errors.ts';
import { checkReceiver, RefusedReceiver } from '../events/receiver-address.ts';
import { newWebhookId } from '../ids.ts';
import type { Logger } from '../logger.ts';
import type { Webhook } from '../schemas/webhooks.ts';
import type { SecretBox } from '../secret-box.ts';
import { type AuditContext, EVERY_PROJECT, noted, type WebhookRecord } from '../store/index.ts';
import type { DeliveryDeps } from './deliveries.ts';
import { box, newSecret, PREVIOUS_SECRET_MS, secretContext } from './secrets.ts';

export type WebhookDeps = DeliveryDeps & {
  secrets: SecretBox | undefined;
  source: string;
  allowPrivateNetworks: boolean;
  limit: number;
  limitPerProject: number;
};

export function toWebhook(record: WebhookRecord, now = Date.now()): Webhook {
  const previousLive = record.previousSecretExpiresAt && Date.parse(record.previousSecretExpiresAt) > now;
  return {
    id: record.id,
    project: record.project === EVERY_PROJECT ? null : record.project,
    url: record.url,
    event_types: record.eventTypes,
    description: record.description,
    enabled: record.enabled,
    disabled_reason: record.disabledReason,
    previous_secret_expires_at: previousLive ? record.previousSecretExpiresAt : null,
    circuit: toCircuit(record.circuit, now),
    created_by: record.createdBy,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    href: `/api/webhooks/${record.id}`,
    deliveries_href: `/api/webhooks/${record.id}/deliveries`,
  };
}

// An open circuit whose time is up is half-open: its next attempt decides.
function toCircuit(circuit: WebhookRecord['circuit'], now: number): Webhook['circuit'] {
  const state = !circuit.open ? 'closed' : circuit.until && Date.parse(circuit.until) > now ? 'open' : 'half-open';
  return {
    state,
    until: circuit.open ? circuit.until : null,
    reason: circuit.open ? circuit.reason : null,
    changed_at: circuit.changedAt,
  };
}

// `log` is the request's: what a refused name resolved to goes there, with
// the request id, and not to the caller.
async function checked(deps: WebhookDeps, url: string, log: Logger): Promise<string> {
  try {
    await checkReceiver(new URL(url), deps.allowPrivateNetworks);
  } catch (error) {
    if (!(error instanceof RefusedReceiver)) throw error;
    if (error.resolved !== undefined)
      log.warn({ host: new URL(url).hostname, resolved: error.resolved }, 'webhook url refused');
    throw new AppError('validation-failed', `the webhook's url is refused: ${error.message}`, {
      errors: [{ path: 'url', message: error.message }],
    });
  }
  return url;
}

export function webhookNotFound(id: string): AppError {
  return new AppError('webhook-not-found', `no webhook ${id}`);
}

export async function found(deps: WebhookDeps, id: string): Promise<WebhookRecord> {
  const webhook = await deps.store.webhooks.get(id);
  if (!webhook) throw webhookNotFound(id);
  return webhook;
}
// `audit`: who asks (the webhook's created_by), and in which request;
// `project`: whose events it receives (EVERY_PROJECT: all).
export async function createWebhook(
  deps: WebhookDeps,
  audit: AuditContext,
  project: string,
  body: { url: string; event_types: string[]; description: string },
  log: Logger,
) {
  const secrets = box(deps);
  const url = await checked(deps, body.url, log);
  const id = newWebhookId();
  const secret = newSecret();
  const now = new Date().toISOString();
  const record: WebhookRecord = {
    id,
    project,
    url,
    eventTypes: body.event_types,
    description: body.description,
    enabled: true,
    disabledReason: null,
    secret: secrets.seal(secret, secretContext(id)),
    previousSecret: null,
    previousSecretExpiresAt: null,
    createdBy: audit.actor.name,
    createdAt: now,
    updatedAt: now,
    circuit: { open: false, until: null, reason: null, changedAt: null },
  };
  const created = await deps.store.webhooks.create(
    record,
    { total: deps.limit, perProject: deps.limitPerProject },
    noted(audit, 'webhook.create'),
  );
  if (created.outcome === 'limit') {
    throw new AppError(
      'webhook-limit-reached',
      `this installation has ${created.count} webhooks, its limit (WEBHOOK_LIMIT=${deps.limit}); delete ` +
        'one to register another',
    );
  }
  if (created.outcome === 'project-limit') {
    throw new AppError(
      'webhook-limit-reached',
      `project "${project}" has ${created.count} webhooks, the limit of one project ` +
        `(WEBHOOK_LIMIT_PER_PROJECT=${deps.limitPerProject}); delete one to register another`,
    );
  }
  if (created.outcome === 'no-project') throw projectNotFound(project);
  return { ...toWebhook(record), secret };
}

export async function getWebhook(deps: WebhookDeps, id: string): Promise<Webhook> {
  return toWebhook(await found(deps, id));
}

// Those of `projects`, or every webhook (undefined).
export async function listWebhooks(
  deps: WebhookDeps,
  projects: readonly string[] | undefined,
  limit: number,
  cursor: string | undefined,
) {
  const page = await deps.store.webhooks.list(projects, limit, cursor);
  return { items: page.items.map((w) => toWebhook(w)), next_cursor: page.nextCursor };
}

export async function updateWebhook(
  deps: WebhookDeps,
  id: string,
  body: {
    url?: string | undefined;
    event_types?: string[] | undefined;
    description?: string | undefined;
    enabled?: boolean | undefined;
  },
  log: Logger,
  audit: AuditContext,
): Promise<Webhook> {
  await found(deps, id);
  const changes: Partial<WebhookRecord> = { updatedAt: new Date().toISOString() };
  if (body.url !== undefined) changes.url = await checked(deps, body.url, log);
  if (body.event_types !== undefined) changes.eventTypes = body.event_types;
  if (body.description !== undefined) changes.description = body.description;
  if (body.enabled !== undefined) {
    changes.enabled = body.enabled;
    if (body.enabled) changes.disabledReason = null;
  }
  if (!(await deps.store.webhooks.update(id, changes, noted(audit, 'webhook.update')))) throw webhookNotFound(id);
  return toWebhook(await found(deps, id));
}

export async function deleteWebhook(deps: WebhookDeps, id: string, audit: AuditContext): Promise<void> {
  if (!(await deps.store.webhooks.delete(id, noted(audit, 'webhook.delete')))) throw webhookNotFound(id);
}

// A new secret; the one it replaces signs beside it for PREVIOUS_SECRET_MS.
export async function rotateSecret(deps: WebhookDeps, id: string, audit: AuditContext) {
  const secrets = box(deps);
  const webhook = await found(deps, id);
  const secret = newSecret();
  const now = Date.now();
  const rotated = {
    secret: secrets.seal(secret, secretContext(id)),
    previousSecret: webhook.secret,
    previousSecretExpiresAt: new Date(now + PREVIOUS_SECRET_MS).toISOString(),
    updatedAt: new Date(now).toISOString(),
  };
  if (!(await deps.store.webhooks.update(id, rotated, noted(audit, 'webhook.rotate-secret'))))
    throw webhookNotFound(id);
  return { ...toWebhook(await found(deps, id)), secret };
}
