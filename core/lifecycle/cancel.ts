// Cancelling a job, queued or running.
import { AppError } from '../errors.ts';
import type { Job } from '../schemas/index.ts';
import type { LifecycleDeps } from './deps.ts';
import { discardPlan } from './approve.ts';
import { promoteJob } from './end-job.ts';
import { getJob } from './read.ts';
import { type AuditContext, noted } from '../store/index.ts';

// Cancels a job. A queued one is removed at once; a running one is
// interrupted by its worker (one SIGINT to Terraform, then a kill after the
// grace period), so the job reads "running" until Terraform has stopped.
export async function cancelJob(deps: LifecycleDeps, jobId: string, audit: AuditContext): Promise<Job> {
  const job = await getJob(deps, jobId);
  // A planned update, or a job stopped by a policy, has nothing running:
  // cancelling it discards its plan (unless it was approved or overridden
  // meanwhile; then it is cancelled as a queued job).
  if (job.status === 'planned' || job.status === 'policy_failed') {
    const discarded = await discardPlan(deps, jobId, audit, 'cancelled').catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'invalid-state') return undefined;
      throw error;
    });
    if (discarded) return discarded;
  }
  const outcome = await deps.store.jobs.cancel(job.resource_id, jobId, noted(audit, 'job.cancel'));
  switch (outcome.outcome) {
    case 'missing':
      throw new AppError('job-not-found', `no job with id ${jobId}`);
    case 'finished':
      throw new AppError(
        'invalid-state',
        `job ${jobId} has already finished (${outcome.status}); only a queued or running job can be cancelled`,
      );
    case 'cancelled': {
      const stack = await deps.store.stacks.get(job.resource_id);
      const stackStatus = stack?.job.id === jobId ? stack.status : undefined;
      await deps.store.channels.publishJobEvent({
        stackId: job.resource_id,
        jobId,
        status: 'cancelled',
        ...(stackStatus ? { stackStatus } : {}),
      });
      await deps.queue.remove(jobId).catch(() => undefined);
      // The stack's next job may be waiting (delayed) for this one.
      await promoteJob(deps.queue, outcome.next);
      break;
    }
    case 'signalled':
      await deps.store.channels.requestCancel(jobId);
      break;
  }
  return getJob(deps, jobId);
}
