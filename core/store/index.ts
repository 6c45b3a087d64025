// Stack and job records in Redis. Every change that touches more than one
// key runs as one Lua script (lua/) or MULTI, so a reader never sees a
// stack whose status, index entries and job disagree. The connection stays
// inside: callers ask the store's parts, by concern.
import type { RedisConnection } from '../redis.ts';
import { Channels } from './channels.ts';
import type { StoreContext } from './context.ts';
import { Jobs } from './jobs.ts';
import { Keys } from './keys.ts';
import { Leases } from './leases.ts';
import { Logs } from './logs.ts';
import { Metrics } from './metrics.ts';
import { Migrations } from './migrations.ts';
import { Outbox } from './outbox.ts';
import { Projects } from './projects.ts';
import { Webhooks } from './webhooks.ts';
import { Stacks } from './stacks.ts';
import { Scripts } from './scripts.ts';
import { ApiTokens } from './tokens.ts';
import { Audit } from './audit.ts';
import { Policies } from './policies.ts';

export type { JobEvent, Message, Topic } from './channels.ts';
export type { JobEnd } from './jobs.ts';
export type { DeliveryAttempt, DeliveryRecord, DeliveryStatus, WebhookRecord } from './webhooks.ts';
export { EVERY_PROJECT } from './webhooks.ts';
export { MAX_LOG_BYTES } from './logs.ts';
export { JOB_DURATION_BUCKETS } from './metrics.ts';
export type { ApproveOutcome, CancelOutcome, CreateOutcome, DeleteRequest, DiscardOutcome } from './outcomes.ts';
export type { FinishOutcome, PlanRequest, RetryRequest, StartOutcome, UpdateRequest } from './outcomes.ts';
export type { Page } from './pages.ts';
export { INSTALLATION, noted, type Actor, type AuditContext, type AuditFilter, type AuditNote } from './audit.ts';
export type { NewToken, TokenCreate, TokenRecord } from './tokens.ts';
export type { PolicyChanges, PolicyRecord } from './policies.ts';
export { IDEMPOTENCY_SECONDS, type NewStack } from './stacks.ts';

// AUDIT_RETENTION_DAYS's default, for stores made without the setting (tools, tests).
export const DEFAULT_AUDIT_RETENTION_DAYS = 90;

type StoreOptions = { retentionDays?: number; now?: () => number; waitReplicas?: number };

export class Store {
  readonly stacks: Stacks;
  readonly jobs: Jobs;
  readonly logs: Logs;
  readonly leases: Leases;
  readonly metrics: Metrics;
  readonly channels: Channels;
  readonly migrations: Migrations;
  readonly outbox: Outbox;
  readonly webhooks: Webhooks;
  readonly projects: Projects;
  readonly tokens: ApiTokens;
  readonly audit: Audit;
  readonly policies: Policies;

  // `jobRetentionSeconds`: how long a finished job's record and log are kept,
  // and a deleted stack's record. `options.retentionDays`: AUDIT_RETENTION_DAYS;
  // `options.waitReplicas`: REDIS_WAIT_REPLICAS.
  constructor(redis: RedisConnection, prefix: string, jobRetentionSeconds: number, options: StoreOptions = {}) {
    const retentionMs = (options.retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS) * 86_400_000;
    const auditSettings = { retentionMs, now: options.now ?? Date.now };
    const scripts = new Scripts(redis, prefix, options.waitReplicas ?? 0);
    const context: StoreContext = { redis, keys: new Keys(prefix), scripts, jobRetentionSeconds, audit: auditSettings };
    this.stacks = new Stacks(context);
    this.jobs = new Jobs(context);
    this.logs = new Logs(context);
    this.leases = new Leases(context);
    this.metrics = new Metrics(context);
    this.channels = new Channels(context);
    this.migrations = new Migrations(context);
    this.outbox = new Outbox(context);
    this.webhooks = new Webhooks(context);
    this.projects = new Projects(context);
    this.tokens = new ApiTokens(context);
    this.audit = new Audit(context);
    this.policies = new Policies(context);
  }
}
