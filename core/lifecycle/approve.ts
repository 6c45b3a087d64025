// A planned update, approved (its saved plan is applied) or discarded
// (nothing is applied; the stack keeps its inputs); a job stopped by a
// soft-mandatory policy, overridden (its saved plan is applied) or discarded.
import { AppError } from '../errors.ts';
import { jobOptions } from '../queue.ts';
import {
  type ForgetPlanJobData,
  type Job,
  type JobAction,
  type JobError,
  type StackStatus,
  toQueue,
} from '../schemas/index.ts';
import type { LifecycleDeps } from './deps.ts';
import { promoteJob } from './end-job.ts';
import { enqueueOrRecordFailure } from './enqueue.ts';
import { getJob } from './read.ts';
import { type AuditContext, noted } from '../store/index.ts';

// The BullMQ job that applies an approved plan: the update's second run.
function applyJobId(jobId: string): string {
  return `${jobId}-apply`;
}

// Who approved it is recorded on the job (`approved_by`).
export async function approvePlan(deps: LifecycleDeps, jobId: string, audit: AuditContext): Promise<Job> {
  const job = await getJob(deps, jobId);
  const outcome = await deps.store.jobs.approve(job.resource_id, jobId, audit.actor.name, noted(audit, 'job.apply'));
  if (outcome.outcome === 'missing') throw new AppError('job-not-found', `no job with id ${jobId}`);
  if (outcome.outcome === 'conflict') throw notPlanned(jobId, outcome.status);
  await queueApply(
    deps,
    job,
    'update',
    'update_failed',
    'the approved apply could not be queued; nothing was applied; send PATCH again',
  );
  return getJob(deps, jobId);
}

// Queues the run that applies a job's saved plan (as `action`); should the
// queue refuse it, the job fails with `message` and leaves its stack `stackStatus`.
async function queueApply(
  deps: LifecycleDeps,
  job: Job,
  action: JobAction,
  stackStatus: StackStatus,
  message: string,
): Promise<void> {
  // The saved plan carries its variables: the run that applies it needs none.
  const data = { jobId: job.id, stackId: job.resource_id, action, template: job.template, inputs: {}, approved: true };
  await enqueueOrRecordFailure(deps, data, stackStatus, message, applyJobId(job.id));
}

// Where a job that cannot be queued again leaves its stack, by its action.
const FAILED_STATUS = { create: 'failed', update: 'update_failed', delete: 'delete_failed', plan: 'ready' } as const;

// Overrides the soft-mandatory policies that stopped a job (`policy_failed`):
// it is queued again to apply exactly the plan they were evaluated on; who
// and why are recorded on the job (`policy.override`) and in the audit log.
export async function overridePolicies(
  deps: LifecycleDeps,
  jobId: string,
  reason: string,
  audit: AuditContext,
): Promise<Job> {
  const job = await getJob(deps, jobId);
  const outcome = await deps.store.jobs.override(
    job.resource_id,
    jobId,
    audit.actor.name,
    reason,
    noted(audit, 'job.override'),
  );
  if (outcome.outcome === 'missing') throw new AppError('job-not-found', `no job with id ${jobId}`);
  if (outcome.outcome === 'conflict')
    throw new AppError(
      'invalid-state',
      `job ${jobId} is ${outcome.status}; only a job stopped by a soft-mandatory policy (policy_failed) ` +
        'can be overridden',
    );
  await queueApply(
    deps,
    job,
    job.action,
    FAILED_STATUS[job.action],
    'the overridden job could not be queued; nothing was applied',
  );
  return getJob(deps, jobId);
}

// `status`: discarded on request, or cancelled (a cancel of a planned job).
export async function discardPlan(
  deps: LifecycleDeps,
  jobId: string,
  audit: AuditContext,
  status: 'discarded' | 'cancelled' = 'discarded',
): Promise<Job> {
  const job = await getJob(deps, jobId);
  const error: JobError = {
    code: 'cancelled',
    message: `${status} on request: the plan was not applied and nothing was changed`,
    retryable: false,
    diagnostics: [],
  };
  const outcome = await deps.store.jobs.discardPlan(
    job.resource_id,
    jobId,
    status,
    error,
    noted(audit, status === 'cancelled' ? 'job.cancel' : 'job.discard'),
  );
  if (outcome.outcome === 'missing') throw new AppError('job-not-found', `no job with id ${jobId}`);
  if (outcome.outcome === 'conflict') throw notPlanned(jobId, outcome.status);
  const stack = await deps.store.stacks.get(job.resource_id);
  await deps.store.channels.publishJobEvent({
    stackId: job.resource_id,
    jobId,
    status,
    ...(stack?.job.id === jobId ? { stackStatus: stack.status } : {}),
  });
  await promoteJob(deps.queue, outcome.next);
  await forgetPlan(deps, job);
  return getJob(deps, jobId);
}

// The saved plan is in the state's bucket, which only workers reach: one
// removes it. Should that job not be queued, the stack's delete removes it.
async function forgetPlan(deps: LifecycleDeps, job: Job): Promise<void> {
  const data: ForgetPlanJobData = { stackId: job.resource_id, jobId: job.id, template: job.template.name };
  try {
    await deps.queue.add('forget-plan', toQueue(data), {
      ...jobOptions(forgetJobId(job.id), deps.jobs.attempts, deps.jobs.backoffMs),
      removeOnFail: true,
    });
  } catch (error) {
    deps.logger.warn(
      { err: error, jobId: job.id },
      "could not queue the removal of a discarded plan; the stack's delete removes it",
    );
  }
}

export function forgetJobId(jobId: string): string {
  return `${jobId}-forget`;
}

function notPlanned(jobId: string, status: string): AppError {
  return new AppError(
    'invalid-state',
    `job ${jobId} is ${status}; only a planned update can be applied, and only it or a job stopped by a ` +
      'policy (policy_failed) discarded',
  );
}
