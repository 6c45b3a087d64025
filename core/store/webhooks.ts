// Webhooks and their deliveries in Redis. A webhook's secrets arrive sealed
// (core/secret-box.ts) and are stored as they arrive; nothing here sees one.
import type { ContextOf } from './context.ts';
import { IndexMember } from './keys.ts';
import { type CircuitAdmission, type CircuitChange, parse, type WebhookCreate } from './outcomes.ts';
import { type Page, pageOfMembers } from './pages.ts';
import { auditInMulti, auditRecord, type AuditNote, INSTALLATION } from './audit.ts';

import { EVERY_PROJECT, toWebhook, webhookFields, type CircuitSettings } from './webhook-records.ts';
import type { DeliveryAttempt, DeliveryRecord, DeliveryStatus, WebhookRecord } from './webhook-records.ts';

export { EVERY_PROJECT } from './webhook-records.ts';
export type { CircuitSettings, DeliveryAttempt, DeliveryRecord, DeliveryStatus } from './webhook-records.ts';
export type { WebhookCircuit, WebhookRecord } from './webhook-records.ts';

type WebhookLimits = { total: number; perProject: number };
type NewDelivery = Omit<DeliveryRecord, 'attempts' | 'updatedAt' | 'status' | 'error'>;

export class Webhooks {
  readonly #c: ContextOf<'redis' | 'keys' | 'scripts' | 'jobRetentionSeconds' | 'audit'>;

  constructor(context: ContextOf<'redis' | 'keys' | 'scripts' | 'jobRetentionSeconds' | 'audit'>) {
    this.#c = context;
  }

  // Stores a webhook unless there are `limits.total` already, or
  // `limits.perProject` in its project, or its project does not exist.
  async create(webhook: WebhookRecord, limits: WebhookLimits, audit?: AuditNote): Promise<WebhookCreate> {
    const { scripts, keys } = this.#c;
    const { id, createdBy, createdAt } = webhook;
    const fields = ['id', id, 'created_by', createdBy, 'created_at', createdAt, ...webhookFields(webhook)];
    const reply = await scripts.run('create-webhook', keys.projectRecordKeys('webhook', id, webhook.project), {
      limit: limits.total,
      projectLimit: limits.perProject,
      member: IndexMember.of(webhook),
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
    const args = { target: 'webhook' as const, fields, audit: auditRecord(this.#c, audit) };
    const [outcome] = await this.#c.scripts.run('update-record', [this.#c.keys.webhook(id)], args);
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
    const multi = redis.multi().del(keys.webhook(id), keys.webhookDeliveries(id), keys.webhookHeld(id));
    multi.zrem(keys.webhookIndex, member);
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
    const hashes = replies.flatMap(([error, hash]) => (error ? [] : [hash as Record<string, string>]));
    return hashes.filter((hash) => hash.id).map(toWebhook);
  }

  // Whether a delivery may be attempted now, by the webhook's circuit; a
  // trial holds the half-open circuit for `trialMs`.
  async admit(webhookId: string, deliveryId: string, trialMs: number): Promise<CircuitAdmission> {
    const { keys, scripts } = this.#c;
    const args = { deliveryId, nowMs: Date.now(), trialMs };
    const reply = await scripts.run('admit-delivery', [keys.webhook(webhookId), keys.webhookHeld(webhookId)], args);
    return parse.admitDelivery(reply);
  }

  // Counts an attempt that got an answer (success) or not (failure) against the webhook's circuit.
  async recordCircuit(
    webhookId: string,
    result: 'success' | 'failure',
    settings: CircuitSettings,
    error: string,
  ): Promise<CircuitChange> {
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
    const reply = await scripts.run('record-circuit', [keys.webhook(webhookId), keys.webhookHeld(webhookId)], args);
    return parse.recordCircuit(reply);
  }

  // Records a delivery: 'recorded'; recorded before: its status; the webhook is gone: 'missing'.
  // `audit`: a delivery a user asked for (a ping, a redelivery).
  async recordDelivery(delivery: NewDelivery, audit?: AuditNote): Promise<'recorded' | 'missing' | DeliveryStatus> {
    const { keys, scripts, jobRetentionSeconds } = this.#c;
    const fields = [
      ...['id', delivery.id, 'webhook_id', delivery.webhookId, 'event_id', delivery.eventId],
      ...['event_type', delivery.eventType, 'event', delivery.event, 'status', 'pending'],
      ...['redelivery_of', delivery.redeliveryOf ?? ''],
      ...['created_at', delivery.createdAt, 'updated_at', delivery.createdAt],
    ];
    const member = IndexMember.of(delivery);
    const { webhookId } = delivery;
    const scriptKeys = [keys.delivery(delivery.id), keys.webhookDeliveries(webhookId), keys.webhook(webhookId)];
    const args = { member, retentionSeconds: jobRetentionSeconds, fields, audit: auditRecord(this.#c, audit) };
    const [outcome, status] = await scripts.run('record-delivery', scriptKeys, args);
    return outcome === 'exists' ? (status as DeliveryStatus) : (outcome as 'recorded' | 'missing');
  }

  // An attempt, where the delivery stands after it, and the attempt counted
  // under `counter` (see Outbox.counts). A delivery whose record expired is
  // only counted.
  async recordAttempt(
    deliveryId: string,
    attempt: DeliveryAttempt,
    status: DeliveryStatus,
    error: string | null,
    counter: string,
  ): Promise<void> {
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
    if (!(await this.#c.redis.exists(key))) return;
    await this.#c.redis.hset(key, 'status', 'failed', 'error', error, 'updated_at', at);
  }

  async getDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const [delivery] = await this.#readDeliveries([id]);
    return delivery;
  }

  // Newest first.
  async listDeliveries(webhookId: string, limit: number, cursor?: string): Promise<Page<DeliveryRecord>> {
    const index = this.#c.keys.webhookDeliveries(webhookId);
    const { members, nextCursor } = await pageOfMembers(this.#c.redis, index, 'newest', limit, cursor);
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
      const attemptsJson = (replies[i + 1]?.[1] as string[] | undefined) ?? [];
      const attempts = attemptsJson.map((a) => JSON.parse(a) as DeliveryAttempt);
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
