// Stacks: recording a new one, requesting its delete, the retry of its
// create, an update or a plan, and forgetting deleted ones; reading them is
// StackQueries' (stack-queries.ts).
import type { JobError, JobResult, StackInputs, TemplateRef } from '../schemas/index.ts';
import { DEFAULT_PROJECT } from '../access/roles.ts';
import { nowArgs } from './context.ts';
import { stackStatePrefix } from '../ids.ts';
import { IndexMember } from './keys.ts';
import { parse, type CreateOutcome, type DeleteRequest, type PlanRequest } from './outcomes.ts';
import type { RetryRequest, UpdateRequest } from './outcomes.ts';
import { StackQueries } from './stack-queries.ts';
import { auditRecord, type Audited, type AuditNote } from './audit.ts';

export type { ListArgs } from './stack-queries.ts';

// How long an Idempotency-Key is remembered.
export const IDEMPOTENCY_SECONDS = 24 * 3600;
// Deleted stacks forgotten per script run.
const FORGET_BATCH = 200;

export type NewStack = {
  id: string;
  jobId: string;
  template: TemplateRef;
  // What the stack shows: the inputs the caller set and the template's
  // defaults; and the names of those the caller set.
  inputs: StackInputs;
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

type UpdateChange = {
  inputs: StackInputs;
  setInputs: readonly string[];
  secrets: string | undefined;
  autoApply: boolean;
};

// What every request for a new job of a stack names.
type NewJobRequest = { id: string; jobId: string; maxAttempts: number; templateVersion: string } & Audited;

const CANCELLED: JobError = {
  code: 'cancelled',
  message: 'cancelled: the resource was deleted before this job started',
  retryable: false,
  diagnostics: [],
};
const EMPTY_RESULT: JobResult = { outputs: {}, changes: { add: 0, change: 0, remove: 0 }, duration_ms: 0 };
const DISCARDED: JobError = {
  code: 'cancelled',
  message: 'discarded: the stack was deleted before this plan was approved; nothing was applied',
  retryable: false,
  diagnostics: [],
};

export class Stacks extends StackQueries {
  // Records a stack and its create job in one step (see create-7.lua).
  async create(args: NewStack): Promise<CreateOutcome> {
    const { keys, scripts } = this.c;
    const now = args.now ?? new Date();
    const reply = await scripts.run(
      'create',
      [
        keys.stack(args.id),
        keys.job(args.jobId),
        keys.ops(args.id),
        keys.index,
        keys.status('creating'),
        keys.ownerLive(args.owner),
        keys.idempotency(args.owner, args.idempotency?.key ?? ''),
      ],
      {
        stackId: args.id,
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
        audit: auditRecord(this.c, args.audit),
      },
    );
    return parse.create(reply);
  }

  // Undoes create() when the job could not be enqueued (see discard-7.lua).
  async discard(id: string, jobId: string, owner: string, idempotencyKey: string | undefined): Promise<void> {
    const { keys, scripts } = this.c;
    const reply = await scripts.run(
      'discard',
      [
        keys.stack(id),
        keys.job(jobId),
        keys.ops(id),
        keys.log(jobId),
        keys.index,
        keys.ownerLive(owner),
        keys.idempotency(owner, idempotencyKey ?? ''),
      ],
      { jobId, stackId: id, now: nowArgs().now },
    );
    parse.done('discard', 'discarded', reply);
  }

  // `templateVersion`: the version of the stack's template the delete runs.
  async requestDelete(args: NewJobRequest): Promise<DeleteRequest> {
    const { keys, scripts, jobRetentionSeconds } = this.c;
    const { now, nowMs } = nowArgs();
    const reply = await scripts.run('request-delete', keys.jobScript(args.id, args.jobId), {
      ...this.#newJob(args, now, nowMs),
      retentionSeconds: jobRetentionSeconds,
      cancelledError: JSON.stringify(CANCELLED),
      emptyResult: JSON.stringify(EMPTY_RESULT),
      discardedError: JSON.stringify(DISCARDED),
    });
    return parse.requestDelete(reply);
  }

  // The retry runs version `templateVersion` of the stack's template; the
  // stack takes it, and shows `inputs` (its set inputs with that version's defaults).
  async requestRetry(args: NewJobRequest & { inputs: StackInputs }): Promise<RetryRequest> {
    const { keys, scripts } = this.c;
    const { now, nowMs } = nowArgs();
    const reply = await scripts.run('request-retry', keys.jobScript(args.id, args.jobId), {
      ...this.#newJob(args, now, nowMs),
      inputs: JSON.stringify(args.inputs),
    });
    return parse.requestRetry(reply);
  }

  // An update of a ready or update_failed stack to `inputs` (shown), of which
  // the caller set `setInputs`, and the sealed sensitive ones; see request-update-3.lua.
  async requestUpdate(args: NewJobRequest & UpdateChange): Promise<UpdateRequest> {
    const { keys, scripts } = this.c;
    const { now, nowMs } = nowArgs();
    const reply = await scripts.run('request-update', keys.jobScript(args.id, args.jobId), {
      ...this.#newJob(args, now, nowMs),
      inputs: JSON.stringify(args.inputs),
      setInputs: JSON.stringify(args.setInputs),
      secrets: args.secrets ?? '',
      autoApply: args.autoApply ? '1' : '0',
    });
    return parse.requestUpdate(reply);
  }

  // A speculative plan of a ready stack with version `templateVersion` of its
  // template: queued behind the stack's other jobs, changing nothing of it.
  // `onlyIfIdle`: a drift check, which runs only when no other job waits.
  async requestPlan(args: NewJobRequest & { onlyIfIdle?: boolean }): Promise<PlanRequest> {
    const { keys, scripts } = this.c;
    const { now, nowMs } = nowArgs();
    const reply = await scripts.run('request-plan', keys.jobScript(args.id, args.jobId), {
      ...this.#newJob(args, now, nowMs),
      onlyIfIdle: args.onlyIfIdle === true,
    });
    return parse.requestPlan(reply);
  }

  // What every request for a new job of a stack gives its script.
  #newJob(args: NewJobRequest, now: string, nowMs: number) {
    const { jobId, maxAttempts, templateVersion } = args;
    return { jobId, now, nowMs, maxAttempts, templateVersion, audit: auditRecord(this.c, args.audit) };
  }

  // Forgets the stacks deleted longer ago than the retention period (see
  // forget-deleted-2.lua); returns how many.
  async forgetDeleted(now: Date = new Date()): Promise<number> {
    const { keys, scripts } = this.c;
    let forgotten = 0;
    for (;;) {
      // In batches: each is one atomic step, and Redis serves others between them.
      const args = { nowMs: now.getTime(), batch: FORGET_BATCH };
      const count = parse.forgetDeleted(await scripts.run('forget-deleted', [keys.forget, keys.index], args));
      forgotten += count;
      if (count < FORGET_BATCH) return forgotten;
    }
  }
}
