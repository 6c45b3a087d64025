// What the API adds to the stack lifecycle (core/lifecycle/): a request may
// wait for the job it started (Prefer: wait) before it answers.
import type { LifecycleDeps } from '../core/lifecycle/index.ts';
import { getJob, getStack } from '../core/lifecycle/index.ts';
import {
  FINISHED_JOB_STATUSES,
  SETTLED_JOB_STATUSES,
  type Job,
  type JobStatus,
  type Stack,
} from '../core/schemas/index.ts';
import type { JobWaiter } from './job-waiter.ts';

export type UseCaseDeps = LifecycleDeps & {
  waiter: JobWaiter;
  maxLiveStacksPerToken: number;
};

// Waits up to `seconds` for the stack's current job to settle (finish, or
// wait for approval) and returns the stack as it is then.
export async function waitForStack(
  deps: Pick<UseCaseDeps, 'store' | 'waiter'>,
  stack: Stack,
  seconds: number,
  cancelled: AbortSignal,
): Promise<Stack> {
  await waitUntilSettled(deps, stack.job.id, seconds, cancelled);
  return getStack(deps, stack.id);
}

// The same for a job, returned as it is then.
export async function waitForJob(
  deps: Pick<UseCaseDeps, 'store' | 'waiter'>,
  job: Job,
  seconds: number,
  cancelled: AbortSignal,
): Promise<Job> {
  await waitUntilSettled(deps, job.id, seconds, cancelled);
  return getJob(deps, job.id);
}

async function waitUntilSettled(
  deps: Pick<UseCaseDeps, 'store' | 'waiter'>,
  jobId: string,
  seconds: number,
  cancelled: AbortSignal,
): Promise<void> {
  const settled = async () => {
    const job = await deps.store.jobs.get(jobId);
    return job !== null && isJobSettled(job.status);
  };
  await deps.waiter.waitFor(jobId, settled, AbortSignal.any([AbortSignal.timeout(seconds * 1000), cancelled]));
}

export function isFinished(stack: Stack): boolean {
  return isJobFinished(stack.job.status);
}

// Finished, or waiting for approval: nothing more happens until someone acts.
export function isJobSettled(status: JobStatus): boolean {
  return SETTLED_JOB_STATUSES.includes(status);
}

export function isJobFinished(status: JobStatus): boolean {
  return FINISHED_JOB_STATUSES.includes(status);
}
