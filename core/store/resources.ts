// Resources: recording a new one, requesting its delete or the retry of its
// create, reading one, and listing them in pages.
import { RESOURCE_STATUSES, type DriftStatus, type JobError, type JobResult, type Resource, type ResourceInputs, type ResourceStatus, type TemplateRef } from '../schemas/index.ts';
import { DEFAULT_PROJECT } from '../access/roles.ts';
import { nowArgs, type StoreContext } from './context.ts';
import { stackStatePrefix } from '../ids.ts';
import { IndexMember } from './keys.ts';
import { type Page, pageOfMembers } from './pages.ts';
import { parse, type CreateOutcome, type DeleteRequest, type PlanRequest, type RetryRequest, type UpdateRequest } from './outcomes.ts';
import { toResource } from './records.ts';
import { auditRecord, type Audited, type AuditNote } from './audit.ts';

// How long an Idempotency-Key is remembered.
export const IDEMPOTENCY_SECONDS = 24 * 3600;
// Deleted stacks forgotten per script run.
const FORGET_BATCH = 200;

export type NewResource = {
  id: string;
  jobId: string;
  template: TemplateRef;
  // What the resource shows: the inputs the caller set and the template's
  // defaults; and the names of those the caller set.
  inputs: ResourceInputs;
  setInputs: readonly string[];
  // The sensitive inputs the caller set, sealed (see core/secret-box.ts).
  secrets?: string | undefined;
  maxAttempts: number;
  // Whose live stacks and Idempotency-Keys it counts under (a principal's key).
  owner: string;
  // Shown as created_by (a principal's name); the owner when left out.
  createdBy?: string;
  // The default project when left out.
  project?: string;
  maxLive: number;
  expiresAt?: Date | undefined;
  idempotency?: { key: string; fingerprint: string } | undefined;
  now?: Date;
  audit?: AuditNote | undefined;
};

type NewJobRequest = { jobId: string; maxAttempts: number; templateVersion: string } & Audited;

// `template`: one template's stacks, or several's, read as one index.
export type ListArgs = { template: string | readonly string[]; status?: ResourceStatus | undefined; drift?: DriftStatus | undefined; projects?: readonly string[] | undefined; limit: number; cursor?: string | undefined };

export class Resources {
  readonly #c: StoreContext;

  constructor(context: StoreContext) {
    this.#c = context;
  }

  // Records a resource and its create job in one step (see create-7.lua).
  async create(args: NewResource): Promise<CreateOutcome> {
    const { keys, scripts } = this.#c;
    const now = args.now ?? new Date();
    const reply = await scripts.run(
      'create',
      [
        keys.resource(args.id),
        keys.job(args.jobId),
        keys.ops(args.id),
        keys.index,
        keys.status('creating'),
        keys.ownerLive(args.owner),
        keys.idempotency(args.owner, args.idempotency?.key ?? ''),
      ],
      {
        resourceId: args.id,
        jobId: args.jobId,
        now: now.toISOString(),
        member: IndexMember.encode(now.getTime(), args.id),
        inputs: JSON.stringify(args.inputs),
        setInputs: JSON.stringify(args.setInputs),
        secrets: args.secrets ?? '',
        maxAttempts: args.maxAttempts,
        owner: args.owner,
        cap: args.maxLive,
        createdBy: args.createdBy ?? args.owner,
        fingerprint: args.idempotency?.fingerprint ?? '',
        idempotencySeconds: IDEMPOTENCY_SECONDS,
        expiresAt: args.expiresAt?.toISOString() ?? '',
        template: args.template.name,
        templateVersion: args.template.version,
        project: args.project ?? DEFAULT_PROJECT,
        statePrefix: stackStatePrefix(args.id),
        audit: auditRecord(this.#c, args.audit),
      },
    );
    return parse.create(reply);
  }

  // Undoes create() when the job could not be enqueued (see discard-7.lua).
  async discard(id: string, jobId: string, owner: string, idempotencyKey: string | undefined): Promise<void> {
    const { keys, scripts } = this.#c;
    const reply = await scripts.run(
      'discard',
      [
        keys.resource(id),
        keys.job(jobId),
        keys.ops(id),
        keys.log(jobId),
        keys.index,
        keys.ownerLive(owner),
        keys.idempotency(owner, idempotencyKey ?? ''),
      ],
      { jobId, resourceId: id, now: nowArgs().now },
    );
    parse.done('discard', 'discarded', reply);
  }

  // `templateVersion`: the version of the resource's template the delete runs.
  async requestDelete(args: { id: string; jobId: string; maxAttempts: number; templateVersion: string; audit?: AuditNote | undefined }): Promise<DeleteRequest> {
    const { keys, scripts, jobRetentionSeconds } = this.#c;
    const { id, jobId } = args;
    const cancelled: JobError = { code: 'cancelled', message: 'cancelled: the resource was deleted before this job started', retryable: false, diagnostics: [] };
    const empty: JobResult = { outputs: {}, changes: { add: 0, change: 0, remove: 0 }, duration_ms: 0 };
    const discarded: JobError = { code: 'cancelled', message: 'discarded: the stack was deleted before this plan was approved; nothing was applied', retryable: false, diagnostics: [] };
    const { now, nowMs } = nowArgs();
    const reply = await scripts.run(
      'request-delete',
      [keys.resource(id), keys.job(jobId), keys.ops(id)],
      {
        jobId,
        now,
        nowMs,
        maxAttempts: args.maxAttempts,
        templateVersion: args.templateVersion,
        retentionSeconds: jobRetentionSeconds,
        cancelledError: JSON.stringify(cancelled),
        emptyResult: JSON.stringify(empty),
        discardedError: JSON.stringify(discarded),
        audit: auditRecord(this.#c, args.audit),
      },
    );
    return parse.requestDelete(reply);
  }

  // The retry runs version `templateVersion` of the resource's template; the
  // resource takes it, and shows `inputs` (its set inputs with that version's defaults).
  async requestRetry(args: { id: string; jobId: string; maxAttempts: number; templateVersion: string; inputs: ResourceInputs; audit?: AuditNote | undefined }): Promise<RetryRequest> {
    const { keys, scripts } = this.#c;
    const { now, nowMs } = nowArgs();
    const reply = await scripts.run(
      'request-retry',
      [keys.resource(args.id), keys.job(args.jobId), keys.ops(args.id)],
      { ...this.#newJob(args, now, nowMs), inputs: JSON.stringify(args.inputs) },
    );
    return parse.requestRetry(reply);
  }

  // An update of a ready or update_failed stack to `inputs` (shown), of which
  // the caller set `setInputs`, and the sealed sensitive ones; see request-update-3.lua.
  async requestUpdate(args: {
    id: string;
    jobId: string;
    maxAttempts: number;
    templateVersion: string;
    inputs: ResourceInputs;
    setInputs: readonly string[];
    secrets: string | undefined;
    autoApply: boolean;
  } & Audited): Promise<UpdateRequest> {
    const { keys, scripts } = this.#c;
    const { now, nowMs } = nowArgs();
    const reply = await scripts.run(
      'request-update',
      [keys.resource(args.id), keys.job(args.jobId), keys.ops(args.id)],
      {
        ...this.#newJob(args, now, nowMs),
        inputs: JSON.stringify(args.inputs),
        setInputs: JSON.stringify(args.setInputs),
        secrets: args.secrets ?? '',
        autoApply: args.autoApply ? '1' : '0',
      },
    );
    return parse.requestUpdate(reply);
  }

  // A speculative plan of a ready stack with version `templateVersion` of its
  // template: queued behind the stack's other jobs, changing nothing of it.
  // `onlyIfIdle`: a drift check, which runs only when no other job waits.
  async requestPlan(args: { id: string; jobId: string; maxAttempts: number; templateVersion: string; onlyIfIdle?: boolean; audit?: AuditNote | undefined }): Promise<PlanRequest> {
    const { keys, scripts } = this.#c;
    const { now, nowMs } = nowArgs();
    const reply = await scripts.run(
      'request-plan',
      [keys.resource(args.id), keys.job(args.jobId), keys.ops(args.id)],
      { ...this.#newJob(args, now, nowMs), onlyIfIdle: args.onlyIfIdle === true },
    );
    return parse.requestPlan(reply);
  }

  // What every request for a new job of a stack gives its script.
  #newJob(args: NewJobRequest, now: string, nowMs: number) {
    const { jobId, maxAttempts, templateVersion } = args;
    return { jobId, now, nowMs, maxAttempts, templateVersion, audit: auditRecord(this.#c, args.audit) };
  }

  async get(id: string): Promise<Resource | null> {
    const hash = await this.#c.redis.hgetall(this.#c.keys.resource(id));
    return hash.id === undefined ? null : toResource(hash);
  }

  // The inputs the caller set, not the defaults shown beside them: the
  // variables a job gives Terraform. Records from before templates kept no
  // list, and held only what was given to Terraform.
  async setInputs(id: string): Promise<ResourceInputs | null> {
    const [inputs, set] = await this.#c.redis.hmget(this.#c.keys.resource(id), 'inputs', 'set_inputs');
    if (inputs === null || inputs === undefined) return null;
    const all = JSON.parse(inputs) as ResourceInputs;
    const names = set ? (JSON.parse(set) as string[]) : Object.keys(all);
    return Object.fromEntries(names.filter((name) => name in all).map((name) => [name, all[name]]));
  }

  // The sealed sensitive inputs, if any.
  async secrets(id: string): Promise<string | undefined> {
    return (await this.#c.redis.hget(this.#c.keys.resource(id), 'secrets')) || undefined;
  }

  // Newest first; the cursor is the last member of the previous page.
  // `drift`: only stacks whose last drift result is this one. `projects`:
  // only the stacks of these (none: of every project).
  async list(args: ListArgs): Promise<Page<Resource>> {
    const { redis, keys } = this.#c;
    const { members: page, nextCursor } = await pageOfMembers(redis, this.#listKey(args), 'newest', args.limit, args.cursor);
    const pipeline = redis.pipeline();
    for (const member of page) pipeline.hgetall(keys.resource(IndexMember.id(member)));
    const replies = page.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const items: Resource[] = [];
    for (const [error, hash] of replies) {
      if (error) throw error;
      const record = hash as Record<string, string>;
      if (record.id !== undefined) items.push(toResource(record));
    }
    return { items, nextCursor };
  }

  // The index a page is read from: every filter has its own, kept by the
  // scripts that change what it filters on (see lua/includes/drift.lua).
  #listKey(args: ListArgs): string | string[] {
    const { keys } = this.#c;
    const { status, drift } = args;
    const key = (template: string, project?: string) => {
      if (drift) return status ? keys.templateStatusDrift(template, status, drift, project) : keys.templateDrift(template, drift, project);
      return status ? keys.templateStatus(template, status, project) : keys.templateIndex(template, project);
    };
    const found = [args.template].flat().flatMap((template) => (args.projects === undefined ? [key(template)] : args.projects.map((project) => key(template, project))));
    return found.length === 1 ? (found[0] as string) : found;
  }

  // Forgets the stacks deleted longer ago than the retention period (see
  // forget-deleted-2.lua); returns how many.
  async forgetDeleted(now: Date = new Date()): Promise<number> {
    const { keys, scripts } = this.#c;
    let forgotten = 0;
    for (;;) {
      // In batches: each is one atomic step, and Redis serves others between them.
      const args = { nowMs: now.getTime(), batch: FORGET_BATCH };
      const count = parse.forgetDeleted(await scripts.run('forget-deleted', [keys.forget, keys.index], args));
      forgotten += count;
      if (count < FORGET_BATCH) return forgotten;
    }
  }

  // Ids of resources still creating that were recorded before `before`,
  // oldest first, at most `limit`.
  async creatingSince(before: Date, limit: number): Promise<string[]> {
    const members = await this.#c.redis.zrange(this.#c.keys.status('creating'), '-', IndexMember.before(before.getTime()), 'BYLEX', 'LIMIT', 0, limit);
    return members.map((member) => IndexMember.id(member));
  }

  // The ids of every ready stack, in batches.
  async *readyBatches(size: number): AsyncGenerator<string[]> {
    let start = '-';
    for (;;) {
      const members = await this.#c.redis.zrange(this.#c.keys.status('ready'), start, '+', 'BYLEX', 'LIMIT', 0, size);
      if (members.length === 0) return;
      yield members.map((member) => IndexMember.id(member));
      start = `(${members.at(-1)}`;
      if (members.length < size) return;
    }
  }

  // Of these stacks, those due a drift check: no job busy with them, and no
  // drift result found since `before`.
  async driftCheckDue(ids: readonly string[], before: Date): Promise<string[]> {
    const { redis, keys } = this.#c;
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hget(keys.resource(id), 'drift_checked_at').llen(keys.ops(id));
    const replies = (await pipeline.exec()) ?? [];
    return ids.filter((_, i) => {
      const [[checkedError, checkedAt], [opsError, unfinished]] = [replies[2 * i] ?? [], replies[2 * i + 1] ?? []];
      if (checkedError || opsError) throw checkedError ?? opsError;
      return Number(unfinished) === 0 && (typeof checkedAt !== 'string' || Date.parse(checkedAt) < before.getTime());
    });
  }

  // Every resource recorded, deleted ones still kept (the retention period) included.
  async count(): Promise<number> {
    return this.#c.redis.zcard(this.#c.keys.index);
  }

  // Live stacks by their last drift result; `unknown` is the rest.
  async countByDrift(): Promise<Record<DriftStatus, number>> {
    const { redis, keys } = this.#c;
    const [inSync, drifted, all, deleted] = await Promise.all([
      redis.zcard(keys.drift('in_sync')),
      redis.zcard(keys.drift('drifted')),
      redis.zcard(keys.index),
      redis.zcard(keys.status('deleted')),
    ]);
    return { in_sync: inSync, drifted, unknown: Math.max(0, all - deleted - inSync - drifted) };
  }

  async countByStatus(): Promise<Record<ResourceStatus, number>> {
    const pipeline = this.#c.redis.pipeline();
    for (const status of RESOURCE_STATUSES) pipeline.zcard(this.#c.keys.status(status));
    const replies = (await pipeline.exec()) ?? [];
    const counts = {} as Record<ResourceStatus, number>;
    RESOURCE_STATUSES.forEach((status, i) => {
      const [error, count] = replies[i] ?? [];
      if (error) throw error;
      counts[status] = Number(count);
    });
    return counts;
  }

  // Seconds until an owner's Idempotency-Key is forgotten; -2 if it is not held.
  async idempotencyKeyTtl(owner: string, key: string): Promise<number> {
    return this.#c.redis.ttl(this.#c.keys.idempotency(owner, key));
  }
}
