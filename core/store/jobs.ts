// Jobs: their records and the transitions a worker and the API make
// (start an attempt, hand it back, finish, cancel), and the stack's queue
// of unfinished jobs that orders them.
import type { DriftFinding, Job, JobError, JobPolicy, JobProgress, JobResult } from '../schemas/index.ts';
import type { Outputs, Plan, StackInputs, StackStatus } from '../schemas/index.ts';
import { type ContextOf, nowArgs } from './context.ts';
import { parse, type ApproveOutcome, type CancelOutcome, type DiscardOutcome, type FinishOutcome } from './outcomes.ts';
import type { OverrideOutcome, PlannedOutcome, PolicyFailedOutcome, StartOutcome } from './outcomes.ts';
import { type Page, pageOfMembers } from './pages.ts';
import { toJob } from './records.ts';
import { IndexMember } from './keys.ts';
import { auditRecord, type AuditNote } from './audit.ts';

type RequestedChange = { inputs: StackInputs; secrets: string | undefined; autoApply: boolean };

const CANCELLED_ON_REQUEST: JobError = {
  code: 'cancelled',
  message: 'cancelled on request before it ran',
  retryable: true,
  diagnostics: [],
};

export type JobEnd = {
  stackId: string;
  jobId: string;
  jobStatus: 'succeeded' | 'failed' | 'cancelled';
  stackStatus: StackStatus;
  outputs?: Outputs;
  result?: JobResult;
  plan?: Plan;
  error?: JobError;
  // What the job found out about the stack matching its configuration.
  drift?: DriftFinding;
};

export class Jobs {
  readonly #c: ContextOf<'redis' | 'keys' | 'scripts' | 'jobRetentionSeconds' | 'audit'>;

  constructor(context: ContextOf<'redis' | 'keys' | 'scripts' | 'jobRetentionSeconds' | 'audit'>) {
    this.#c = context;
  }

  async get(jobId: string): Promise<Job | null> {
    const hash = await this.#c.redis.hgetall(this.#c.keys.job(jobId));
    return hash.id === undefined ? null : toJob(hash);
  }

  // A page of the stack's job history, newest first (see
  // lua/includes/history.lua). A job whose record has expired and whose id
  // has not been dropped yet is left out, so a page may hold fewer than
  // `limit`; a stack with no job since the history began has none.
  async history(stackId: string, page: { limit: number; cursor?: string | undefined }): Promise<Page<Job>> {
    const { redis, keys } = this.#c;
    const history = keys.history(stackId);
    const { members, nextCursor } = await pageOfMembers(redis, history, 'newest', page.limit, page.cursor);
    const pipeline = redis.pipeline();
    for (const member of members) pipeline.hgetall(keys.job(IndexMember.id(member)));
    const items: Job[] = [];
    for (const [error, hash] of members.length > 0 ? ((await pipeline.exec()) ?? []) : []) {
      if (error) throw error;
      const record = hash as Record<string, string>;
      if (record.id !== undefined) items.push(toJob(record));
    }
    return { items, nextCursor };
  }

  // The oldest unfinished job of a stack: the only one that may run.
  async head(stackId: string): Promise<string | null> {
    return this.#c.redis.lindex(this.#c.keys.ops(stackId), 0);
  }

  async isPending(stackId: string, jobId: string): Promise<boolean> {
    return (await this.#c.redis.lpos(this.#c.keys.ops(stackId), jobId)) !== null;
  }

  async pendingCount(stackId: string): Promise<number> {
    return this.#c.redis.llen(this.#c.keys.ops(stackId));
  }

  async markRunning(stackId: string, jobId: string): Promise<StartOutcome> {
    const { keys, scripts } = this.#c;
    const { now, nowMs } = nowArgs();
    const scriptKeys = [keys.stack(stackId), keys.job(jobId)];
    const reply = await scripts.run('mark-running', scriptKeys, { jobId, now, nowMs });
    return parse.markRunning(reply);
  }

  async requeue(stackId: string, jobId: string, error: JobError | undefined): Promise<void> {
    const { keys, scripts } = this.#c;
    const reply = await scripts.run('requeue', [keys.stack(stackId), keys.job(jobId)], {
      jobId,
      now: nowArgs().now,
      error: error ? JSON.stringify(error) : '',
    });
    parse.done('requeue', 'queued', reply);
  }

  async finish(end: JobEnd): Promise<FinishOutcome> {
    const { keys, scripts, jobRetentionSeconds } = this.#c;
    const { now, nowMs } = nowArgs();
    const reply = await scripts.run('finish', [...keys.jobScript(end.stackId, end.jobId), keys.log(end.jobId)], {
      jobId: end.jobId,
      now,
      nowMs,
      jobStatus: end.jobStatus,
      stackStatus: end.stackStatus,
      outputs: end.outputs ? JSON.stringify(end.outputs) : '',
      result: end.result ? JSON.stringify(end.result) : '',
      error: end.error ? JSON.stringify(end.error) : '',
      retentionSeconds: jobRetentionSeconds,
      plan: end.plan ? JSON.stringify(end.plan) : '',
      drift: end.drift?.status ?? '',
      driftResources: JSON.stringify(end.drift?.resources ?? []),
    });
    return parse.finish(reply);
  }

  // See cancel-3.lua.
  async cancel(stackId: string, jobId: string, audit?: AuditNote): Promise<CancelOutcome> {
    const { keys, scripts } = this.#c;
    const args = this.#ending(jobId, CANCELLED_ON_REQUEST, audit);
    return parse.cancel(await scripts.run('cancel', keys.jobScript(stackId, jobId), args));
  }

  // What the scripts that end a job before it ran or applied anything
  // (cancel-3, discard-plan-3) are given besides their own.
  #ending(jobId: string, error: JobError, audit: AuditNote | undefined) {
    const { jobRetentionSeconds: retentionSeconds } = this.#c;
    return { jobId, ...nowArgs(), error: JSON.stringify(error), retentionSeconds, audit: auditRecord(this.#c, audit) };
  }

  // An update's plan is saved: it waits for approval (see mark-planned-2.lua).
  async markPlanned(stackId: string, jobId: string, plan: Plan): Promise<PlannedOutcome> {
    const { keys, scripts } = this.#c;
    const args = { jobId, now: nowArgs().now, plan: JSON.stringify(plan) };
    return parse.markPlanned(await scripts.run('mark-planned', [keys.stack(stackId), keys.job(jobId)], args));
  }

  // A soft-mandatory policy failed on the saved plan: the job waits for an
  // override or a discard (see mark-policy-failed-2.lua).
  async markPolicyFailed(stackId: string, jobId: string, plan: Plan, policy: JobPolicy): Promise<PolicyFailedOutcome> {
    const { keys, scripts } = this.#c;
    const reply = await scripts.run('mark-policy-failed', [keys.stack(stackId), keys.job(jobId)], {
      jobId,
      now: nowArgs().now,
      plan: JSON.stringify(plan),
      policy: JSON.stringify(policy),
    });
    return parse.markPolicyFailed(reply);
  }

  // The policies' verdict on a running job, recorded before it goes on.
  async setPolicy(jobId: string, policy: JobPolicy): Promise<void> {
    const at = new Date().toISOString();
    await this.#c.redis.hset(this.#c.keys.job(jobId), 'policy', JSON.stringify(policy), 'updated_at', at);
  }

  // `by`: the principal's name; the job's `policy.override` records it with the reason.
  async override(
    stackId: string,
    jobId: string,
    by: string,
    reason: string,
    audit?: AuditNote,
  ): Promise<OverrideOutcome> {
    const { keys, scripts } = this.#c;
    const reply = await scripts.run('override', keys.jobScript(stackId, jobId), {
      jobId,
      now: nowArgs().now,
      by,
      reason,
      audit: auditRecord(this.#c, audit),
    });
    return parse.override(reply);
  }

  // `approvedBy`: the principal's name, recorded on the job.
  async approve(stackId: string, jobId: string, approvedBy: string, audit?: AuditNote): Promise<ApproveOutcome> {
    const { keys, scripts } = this.#c;
    const reply = await scripts.run('approve', keys.jobScript(stackId, jobId), {
      jobId,
      now: nowArgs().now,
      approvedBy,
      audit: auditRecord(this.#c, audit),
    });
    return parse.approve(reply);
  }

  // Ends a planned update unapplied, as `discarded` or `cancelled`.
  async discardPlan(
    stackId: string,
    jobId: string,
    status: 'discarded' | 'cancelled',
    error: JobError,
    audit?: AuditNote,
  ): Promise<DiscardOutcome> {
    const { keys, scripts } = this.#c;
    const args = { ...this.#ending(jobId, error, audit), status };
    return parse.discardPlan(await scripts.run('discard-plan', keys.jobScript(stackId, jobId), args));
  }

  // An update's sensitive inputs, sealed, while it has not finished.
  async newSecrets(jobId: string): Promise<string | undefined> {
    return (await this.#c.redis.hget(this.#c.keys.job(jobId), 'new_secrets')) || undefined;
  }

  // The inputs an update's stack will show if it succeeds (sensitive ones apart).
  async newInputs(jobId: string): Promise<StackInputs | undefined> {
    const inputs = await this.#c.redis.hget(this.#c.keys.job(jobId), 'new_inputs');
    return inputs ? (JSON.parse(inputs) as StackInputs) : undefined;
  }

  // The S3 backend's workspace_key_prefix of the stack's own, or undefined
  // for a stack from before stacks had one: its state stays under the
  // backend's configured prefix (see stackStatePrefix in core/ids.ts).
  async statePrefix(stackId: string): Promise<string | undefined> {
    return (await this.#c.redis.hget(this.#c.keys.stack(stackId), 'state_prefix')) || undefined;
  }

  // The status an update found its stack in, to go back to if it changes nothing.
  async previousStatus(jobId: string): Promise<StackStatus | undefined> {
    const status = await this.#c.redis.hget(this.#c.keys.job(jobId), 'previous_status');
    return (status as StackStatus | null) ?? undefined;
  }

  // What an update asked for: the inputs it set (sensitive ones apart, sealed)
  // and whether it applied at once; null for a job that is not an update.
  async requestedChange(jobId: string): Promise<RequestedChange | null> {
    const fields = ['action', 'new_inputs', 'new_set_inputs', 'new_secrets', 'auto_apply'];
    const [action, inputs, set, secrets, autoApply] = await this.#c.redis.hmget(this.#c.keys.job(jobId), ...fields);
    if (action !== 'update' || !inputs || !set) return null;
    const all = JSON.parse(inputs) as StackInputs;
    const names = (JSON.parse(set) as string[]).filter((name) => name in all);
    const chosen = Object.fromEntries(names.map((name) => [name, all[name]]));
    return { inputs: chosen, secrets: secrets || undefined, autoApply: autoApply === '1' };
  }

  async setProgress(jobId: string, progress: JobProgress): Promise<void> {
    const at = new Date().toISOString();
    await this.#c.redis.hset(this.#c.keys.job(jobId), 'progress', JSON.stringify(progress), 'updated_at', at);
  }

  async isWorkspaceChecked(jobId: string): Promise<boolean> {
    return (await this.#c.redis.hget(this.#c.keys.job(jobId), 'workspace_checked')) === '1';
  }

  async markWorkspaceChecked(jobId: string): Promise<void> {
    await this.#c.redis.hset(this.#c.keys.job(jobId), 'workspace_checked', '1');
  }

  // Seconds until a finished job's record and its log expire (-1: never; -2: gone).
  async retention(jobId: string): Promise<{ record: number; log: number }> {
    const { redis, keys } = this.#c;
    const [record, log] = await Promise.all([redis.ttl(keys.job(jobId)), redis.ttl(keys.log(jobId))]);
    return { record, log };
  }
}
