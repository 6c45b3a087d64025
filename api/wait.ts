// What the API adds to the stack lifecycle (core/lifecycle/): a request may
// wait for the job it started (Prefer: wait) before it answers.
import type { LifecycleDeps } from '../core/lifecycle/index.ts';
import { getResource } from '../core/lifecycle/index.ts';
import { getJob } from '../core/lifecycle/index.ts';
import { FINISHED_JOB_STATUSES, SETTLED_JOB_STATUSES, type Job, type JobStatus, type Resource } from '../core/schemas/index.ts';
import type { JobWaiter } from './job-waiter.ts';

export type UseCaseDeps = LifecycleDeps & {
  waiter: JobWaiter;
  maxLiveResourcesPerToken: number;
};

// Waits up to `seconds` for the resource's current job to finish and returns
// the resource as it is then.
export async function waitForResource(
  deps: Pick<UseCaseDeps, 'store' | 'waiter'>,
  resource: Resource,
  seconds: number,
  cancelled: AbortSignal,
): Promise<Resource> {
  const jobId = resource.job.id;
  const finished = async () => {
    const job = await deps.store.jobs.get(jobId);
    return job !== null && isJobSettled(job.status);
  };
  await deps.waiter.waitFor(jobId, finished, AbortSignal.any([AbortSignal.timeout(seconds * 1000), cancelled]));
  return getResource(deps, resource.id);
}

// Waits up to `seconds` for a job to finish and returns it as it is then.
export async function waitForJob(deps: Pick<UseCaseDeps, 'store' | 'waiter'>, job: Job, seconds: number, cancelled: AbortSignal): Promise<Job> {
  const finished = async () => {
    const now = await deps.store.jobs.get(job.id);
    return now !== null && isJobFinished(now.status);
  };
  await deps.waiter.waitFor(job.id, finished, AbortSignal.any([AbortSignal.timeout(seconds * 1000), cancelled]));
  return getJob(deps, job.id);
}

export function isFinished(resource: Resource): boolean {
  return isJobFinished(resource.job.status);
}

// Finished, or waiting for approval: nothing more happens until someone acts.
export function isJobSettled(status: JobStatus): boolean {
  return SETTLED_JOB_STATUSES.includes(status);
}

export function isJobFinished(status: JobStatus): boolean {
  return FINISHED_JOB_STATUSES.includes(status);
}
