// Webhooks and their deliveries in Redis. A webhook's secrets arrive sealed
// (core/secret-box.ts) and are stored as they arrive; nothing here sees one.
import type { ContextOf } from './context.ts';
import { IndexMember } from './keys.ts';
import { type CircuitAdmission, type CircuitChange, parse, type WebhookCreate } from './outcomes.ts';
import { type Page, pageOfMembers } from './pages.ts';
import { auditInMulti, auditRecord, type AuditNote, INSTALLATION } from './audit.ts';

// The project of a webhook an owner made for every project.
export const EVERY_PROJECT = '*';

export type WebhookRecord = {
  id: string;
  // Whose events it receives: a project's, or EVERY_PROJECT's.
  project: string;
  url: string;
  // Empty: every type.
  eventTypes: string[];
  description: string;
  enabled: boolean;
  disabledReason: string | null;
  // Sealed; `previousSecret` signs beside it until `previousSecretExpiresAt`.
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  circuit: WebhookCircuit;
};

// Closed, or open until `until` (once past it, half-open: the next attempt
// decides). Only the circuit's scripts change it.
export type WebhookCircuit = { open: boolean; until: string | null; reason: string | null; changedAt: string | null };

// When a circuit opens, and for how long (see lua/record-circuit-2.lua).
export type CircuitSettings = { failures: number; windowMs: number; openMs: number };

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export type DeliveryAttempt = { attempt: number; at: string; status_code: number | null; duration_ms: number; error: string | null };

export type DeliveryRecord = {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  // The CloudEvent as JSON: what every attempt (and a redelivery) sends.
  event: string;
  status: DeliveryStatus;
  error: string | null;
  redeliveryOf: string | null;
  createdAt: string;
  updatedAt: string;
  attempts: DeliveryAttempt[];
};

function toWebhook(hash: Record<string, string>): WebhookRecord {
  return {
    id: hash.id ?? '',
    // Before migration 6 a webhook had no project and received every event;
    // a worker may read one before the API has migrated it.
    project: hash.project || EVERY_PROJECT,
    url: hash.url ?? '',
    eventTypes: JSON.parse(hash.event_types ?? '[]') as string[],
    description: hash.description ?? '',
    enabled: hash.enabled === '1',
    disabledReason: hash.disabled_reason || null,
    secret: hash.secret ?? '',
    previousSecret: hash.previous_secret || null,
    previousSecretExpiresAt: hash.previous_secret_expires_at || null,
    createdBy: hash.created_by ?? '',
    createdAt: hash.created_at ?? '',
    updatedAt: hash.updated_at ?? '',
    circuit: {
      open: hash.circuit_state === 'open',
      until: hash.circuit_until || null,
      reason: hash.circuit_reason || null,
      changedAt: hash.circuit_changed_at || null,
    },
  };
}

function webhookFields(changes: Partial<Omit<WebhookRecord, 'circuit'>>): string[] {
  const fields: Record<string, string | undefined> = {
    url: changes.url,
    event_types: changes.eventTypes && JSON.stringify(changes.eventTypes),
    description: changes.description,
    enabled: changes.enabled === undefined ? undefined : changes.enabled ? '1' : '0',
    disabled_reason: changes.disabledReason === undefined ? undefined : (changes.disabledReason ?? ''),
    secret: changes.secret,
    previous_secret: changes.previousSecret === undefined ? undefined : (changes.previousSecret ?? ''),
    previous_secret_expires_at: changes.previousSecretExpiresAt === undefined ? undefined : (changes.previousSecretExpiresAt ?? ''),
    updated_at: changes.updatedAt,
  };
  return Object.entries(fields).flatMap(([field, value]) => (value === undefined ? [] : [field, value]));
}


export class Webhooks {
  readonly #c: ContextOf<'redis' | 'keys' | 'scripts' | 'jobRetentionSeconds' | 'audit'>;

  constructor(context: ContextOf<'redis' | 'keys' | 'scripts' | 'jobRetentionSeconds' | 'audit'>) {
    this.#c = context;
  }

  // Stores a webhook unless there are `limits.total` already, or
  // `limits.perProject` in its project, or its project does not exist.
  async create(webhook: WebhookRecord, limits: { total: number; perProject: number }, audit?: AuditNote): Promise<WebhookCreate> {
    const { scripts, keys } = this.#c;
    const fields = ['id', webhook.id, 'created_by', webhook.createdBy, 'created_at', webhook.createdAt, ...webhookFields(webhook)];
    const member = IndexMember.encode(Date.parse(webhook.createdAt), webhook.id);
    const scriptKeys = [
      keys.webhook(webhook.id),
      keys.webhookIndex,
      keys.projectWebhooks(webhook.project),
      keys.project(webhook.project),
    ];
    const reply = await scripts.run('create-webhook', scriptKeys, {
      limit: limits.total,
      projectLimit: limits.perProject,
      member,
      project: webhook.project,
      fields,
      audit: auditRecord(this.#c, audit),
    });
    return parse.createWebhook(reply);
  }

  async get(id: string): Promise<WebhookRecord | undefined> {
    const hash = await this.#c.redis.hgetall(this.#c.keys.webhook(id));
    return hash.id ? toWebhook(hash) : undefined;
  }

  // Changes a webhook; false if there is none.
  async update(id: string, changes: Partial<Omit<WebhookRecord, 'circuit'>>, audit?: AuditNote): Promise<boolean> {
    const fields = webhookFields(changes);
    if (fields.length === 0) return (await this.get(id)) !== undefined;
    const args = { fields, audit: auditRecord(this.#c, audit) };
    const [outcome] = await this.#c.scripts.run('update-webhook', [this.#c.keys.webhook(id)], args);
    return outcome === 'updated';
  }

  // Numbers a webhook's pings (their CloudEvents' sequence).
  async nextPingSequence(id: string): Promise<number> {
    return this.#c.redis.hincrby(this.#c.keys.webhook(id), 'ping_seq', 1);
  }

  async delete(id: string, audit?: AuditNote): Promise<boolean> {
    const { redis, keys } = this.#c;
    const [found, createdAt, project] = await redis.hmget(keys.webhook(id), 'id', 'created_at', 'project');
    if (!found) return false;
    const member = IndexMember.encode(Date.parse(createdAt ?? ''), id);
    const multi = redis.multi().del(keys.webhook(id), keys.webhookDeliveries(id), keys.webhookHeld(id)).zrem(keys.webhookIndex, member);
    const scope = project || EVERY_PROJECT;
    if (scope !== EVERY_PROJECT) multi.zrem(keys.projectWebhooks(scope), member);
    auditInMulti(this.#c, multi, audit, scope === EVERY_PROJECT ? INSTALLATION : scope, { type: 'webhook', id });
    await multi.exec();
    return true;
  }

  // Oldest first: those of `projects` (their indexes read together), or
  // every webhook, every-project ones included (undefined).
  async list(projects: readonly string[] | undefined, limit: number, cursor?: string): Promise<Page<WebhookRecord>> {
    const { keys, redis } = this.#c;
    const indexes = projects === undefined ? keys.webhookIndex : projects.map((p) => keys.projectWebhooks(p));
    const { members, nextCursor } = await pageOfMembers(redis, indexes, 'oldest', limit, cursor);
    return { items: await this.#read(members.map((m) => IndexMember.id(m))), nextCursor };
  }

  // Every webhook (what a dispatcher fans an event out to).
  async all(): Promise<WebhookRecord[]> {
    const members = await this.#c.redis.zrange(this.#c.keys.webhookIndex, '0', '-1');
    return this.#read(members.map((m) => IndexMember.id(m)));
  }

  async #read(ids: string[]): Promise<WebhookRecord[]> {
    if (ids.length === 0) return [];
    const pipeline = this.#c.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.#c.keys.webhook(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.flatMap(([error, hash]) => (!error && (hash as Record<string, string>).id ? [toWebhook(hash as Record<string, string>)] : []));
  }

  // Whether a delivery may be attempted now, by the webhook's circuit; a
  // trial holds the half-open circuit for `trialMs`.
  async admit(webhookId: string, deliveryId: string, trialMs: number): Promise<CircuitAdmission> {
    const { keys, scripts } = this.#c;
    const args = { deliveryId, nowMs: Date.now(), trialMs };
    return parse.admitDelivery(await scripts.run('admit-delivery', [keys.webhook(webhookId), keys.webhookHeld(webhookId)], args));
  }

  // Counts an attempt that got an answer (success) or not (failure) against the webhook's circuit.
  async recordCircuit(webhookId: string, result: 'success' | 'failure', settings: CircuitSettings, error: string): Promise<CircuitChange> {
    const { keys, scripts } = this.#c;
    const now = Date.now();
    const args = {
      result,
      nowMs: now,
      now: new Date(now).toISOString(),
      threshold: settings.failures,
      windowMs: settings.windowMs,
      openMs: settings.openMs,
      openUntil: new Date(now + settings.openMs).toISOString(),
      error,
    };
    return parse.recordCircuit(await scripts.run('record-circuit', [keys.webhook(webhookId), keys.webhookHeld(webhookId)], args));
  }

  // Records a delivery: 'recorded'; recorded before: its status; the webhook is gone: 'missing'.
  // `audit`: a delivery a user asked for (a ping, a redelivery).
  async recordDelivery(delivery: Omit<DeliveryRecord, 'attempts' | 'updatedAt' | 'status' | 'error'>, audit?: AuditNote): Promise<'recorded' | 'missing' | DeliveryStatus> {
    const { keys, scripts, jobRetentionSeconds } = this.#c;
    const fields = [
      'id', delivery.id, 'webhook_id', delivery.webhookId, 'event_id', delivery.eventId, 'event_type', delivery.eventType,
      'event', delivery.event, 'status', 'pending', 'redelivery_of', delivery.redeliveryOf ?? '',
      'created_at', delivery.createdAt, 'updated_at', delivery.createdAt,
    ];
    const member = IndexMember.encode(Date.parse(delivery.createdAt), delivery.id);
    const scriptKeys = [keys.delivery(delivery.id), keys.webhookDeliveries(delivery.webhookId), keys.webhook(delivery.webhookId)];
    const args = { member, retentionSeconds: jobRetentionSeconds, fields, audit: auditRecord(this.#c, audit) };
    const [outcome, status] = await scripts.run('record-delivery', scriptKeys, args);
    return outcome === 'exists' ? (status as DeliveryStatus) : (outcome as 'recorded' | 'missing');
  }

  // An attempt, where the delivery stands after it, and the attempt counted
  // under `counter` (see Outbox.counts). A delivery whose record expired is
  // only counted.
  async recordAttempt(deliveryId: string, attempt: DeliveryAttempt, status: DeliveryStatus, error: string | null, counter: string): Promise<void> {
    const { redis, keys, jobRetentionSeconds } = this.#c;
    const key = keys.delivery(deliveryId);
    const recorded = (await redis.exists(key)) === 1;
    const multi = redis.multi().hincrby(keys.eventCounts, counter, 1);
    if (recorded) {
      multi
        .rpush(keys.deliveryAttempts(deliveryId), JSON.stringify(attempt))
        .expire(keys.deliveryAttempts(deliveryId), jobRetentionSeconds)
        .hset(key, 'status', status, 'error', error ?? '', 'updated_at', attempt.at);
    }
    await multi.exec();
  }

  // Ends a delivery without an attempt (its webhook was disabled or deleted,
  // or its circuit stayed open past the retry period).
  async endDelivery(deliveryId: string, error: string, at: string): Promise<void> {
    const key = this.#c.keys.delivery(deliveryId);
    if (await this.#c.redis.exists(key)) await this.#c.redis.hset(key, 'status', 'failed', 'error', error, 'updated_at', at);
  }

  async getDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const [delivery] = await this.#readDeliveries([id]);
    return delivery;
  }

  // Newest first.
  async listDeliveries(webhookId: string, limit: number, cursor?: string): Promise<Page<DeliveryRecord>> {
    const { members, nextCursor } = await pageOfMembers(this.#c.redis, this.#c.keys.webhookDeliveries(webhookId), 'newest', limit, cursor);
    return { items: await this.#readDeliveries(members.map((m) => IndexMember.id(m))), nextCursor };
  }

  async #readDeliveries(ids: string[]): Promise<DeliveryRecord[]> {
    if (ids.length === 0) return [];
    const pipeline = this.#c.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.#c.keys.delivery(id)).lrange(this.#c.keys.deliveryAttempts(id), 0, -1);
    const replies = (await pipeline.exec()) ?? [];
    const deliveries: DeliveryRecord[] = [];
    for (let i = 0; i + 1 < replies.length; i += 2) {
      const hash = replies[i]?.[1] as Record<string, string> | undefined;
      if (!hash?.id) continue;
      const attempts = ((replies[i + 1]?.[1] as string[] | undefined) ?? []).map((a) => JSON.parse(a) as DeliveryAttempt);
      deliveries.push({
        id: hash.id,
        webhookId: hash.webhook_id ?? '',
        eventId: hash.event_id ?? '',
        eventType: hash.event_type ?? '',
        event: hash.event ?? '{}',
        status: (hash.status ?? 'pending') as DeliveryStatus,
        error: hash.error || null,
        redeliveryOf: hash.redelivery_of || null,
        createdAt: hash.created_at ?? '',
        updatedAt: hash.updated_at ?? '',
        attempts,
      });
    }
    return deliveries;
  }
}
