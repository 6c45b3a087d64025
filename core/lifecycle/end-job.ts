// The end of a job, however it ends: recorded, told to whoever waits on it,
// and the stack's next job woken.
import type { JobQueue } from '../queue.ts';
import type { JobAction, JobData, StackStatus } from '../schemas/index.ts';
import type { JobEnd } from '../store/index.ts';
import type { LifecycleDeps } from './deps.ts';

// The status a stack is left in when its job fails or is cancelled. A plan
// job is never its stack's current job, so it leaves the stack as it is (the
// store changes the status only for the current job).
export function failedStatus(action: JobAction): StackStatus {
  if (action === 'plan') return 'ready';
  if (action === 'update') return 'update_failed';
  return action === 'create' ? 'failed' : 'delete_failed';
}

// Wakes a stack's next job, which waits (delayed) for the one before it.
export async function promoteJob(queue: JobQueue, jobId: string | null): Promise<void> {
  if (!jobId) return;
  await (await queue.getJob(jobId))?.promote().catch(() => undefined);
}

export async function endJob(
  deps: Pick<LifecycleDeps, 'store' | 'queue'>,
  job: Pick<JobData, 'stackId' | 'jobId'>,
  end: Omit<JobEnd, 'stackId' | 'jobId'>,
): Promise<void> {
  const { next } = await deps.store.jobs.finish({ stackId: job.stackId, jobId: job.jobId, ...end });
  await deps.store.channels.publishJobEvent({
    stackId: job.stackId,
    jobId: job.jobId,
    status: end.jobStatus,
    stackStatus: end.stackStatus,
  });
  await promoteJob(deps.queue, next);
}
