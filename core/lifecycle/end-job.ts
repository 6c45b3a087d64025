// The end of a job, however it ends: recorded, told to whoever waits on it,
// and the resource's next job woken.
import type { JobQueue } from '../queue.ts';
import type {
  DriftFinding,
  JobAction,
  JobData,
  JobError,
  JobResult,
  Outputs,
  Plan,
  ResourceStatus,
} from '../schemas/index.ts';
import type { LifecycleDeps } from './deps.ts';

// The status a stack is left in when its job fails or is cancelled. A plan
// job is never its stack's current job, so it leaves the stack as it is (the
// store changes the status only for the current job).
export function failedStatus(action: JobAction): ResourceStatus {
  if (action === 'plan') return 'ready';
  if (action === 'update') return 'update_failed';
  return action === 'create' ? 'failed' : 'delete_failed';
}

// Wakes a resource's next job, which waits (delayed) for the one before it.
export async function promoteJob(queue: JobQueue, jobId: string | null): Promise<void> {
  if (!jobId) return;
  await (await queue.getJob(jobId))?.promote().catch(() => undefined);
}

export async function endJob(
  deps: Pick<LifecycleDeps, 'store' | 'queue'>,
  job: Pick<JobData, 'resourceId' | 'jobId'>,
  end: {
    jobStatus: 'succeeded' | 'failed' | 'cancelled';
    resourceStatus: ResourceStatus;
    outputs?: Outputs;
    result?: JobResult;
    plan?: Plan;
    error?: JobError;
    drift?: DriftFinding;
  },
): Promise<void> {
  const { next } = await deps.store.jobs.finish({ resourceId: job.resourceId, jobId: job.jobId, ...end });
  await deps.store.channels.publishJobEvent({
    resourceId: job.resourceId,
    jobId: job.jobId,
    status: end.jobStatus,
    resourceStatus: end.resourceStatus,
  });
  await promoteJob(deps.queue, next);
}
