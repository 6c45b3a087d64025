// Changes that both the API and the workers make to a resource: a delete (a
// user's DELETE, or the `expire` job when a stack's ttl runs out) and the
// enqueueing of the job that carries a recorded change out.
import type { Logger } from './logger.ts';
import { newJobId } from './ids.ts';
import { jobOptions, type JobQueue } from './queue.ts';
import type { JobAction, JobData, JobError, JobResult, Outputs, ResourceStatus } from './schemas.ts';
import type { DeleteRequest, Store } from './store/index.ts';

export type CommandDeps = {
  store: Store;
  queue: JobQueue;
  logger: Logger;
  jobs: { attempts: number; backoffMs: number };
};

// Idempotent: while a delete is queued or running, the same job is returned;
// a resource already deleted is returned as it is. A create that has not
// started yet is cancelled instead of being run and then destroyed.
export async function requestDeletion(deps: CommandDeps, id: string): Promise<DeleteRequest> {
  const jobId = newJobId();
  const request = await deps.store.resources.requestDelete(id, jobId, deps.jobs.attempts);
  if (request.outcome === 'cancelled') {
    // Requests waiting on either job (Prefer: wait) learn that it finished.
    await deps.store.channels.publishJobEvent({ resourceId: id, jobId: request.cancelledJobId, status: 'cancelled', resourceStatus: 'deleted' });
    await deps.store.channels.publishJobEvent({ resourceId: id, jobId: request.jobId, status: 'succeeded', resourceStatus: 'deleted' });
    // Tidy only: a worker that picks the cancelled job up anyway drops it.
    await deps.queue.remove(request.cancelledJobId).catch(() => undefined);
  }
  if (request.outcome === 'created') {
    const resource = await deps.store.resources.get(id);
    if (!resource) throw new Error(`resource ${id} vanished while its delete was recorded`);
    await enqueueOrRecordFailure(
      deps,
      { jobId, resourceId: id, action: 'delete', inputs: resource.inputs, retry: false },
      'delete_failed',
      'the delete job could not be queued; send DELETE again',
    );
  }
  return request;
}

// Adds the job for a change already recorded on an existing resource. If the
// queue refuses it, the job is recorded as failed so the resource does not
// wait for a job that will never run, and the error goes on to the caller.
export async function enqueueOrRecordFailure(deps: CommandDeps, data: JobData, resourceStatus: ResourceStatus, message: string): Promise<void> {
  try {
    await deps.queue.add(data.action, data, jobOptions(data.jobId, deps.jobs.attempts, deps.jobs.backoffMs));
  } catch (error) {
    await deps.store.jobs
      .finish({
        resourceId: data.resourceId,
        jobId: data.jobId,
        jobStatus: 'failed',
        resourceStatus,
        error: { message, retryable: true, diagnostics: [] },
      })
      .catch((e: unknown) => deps.logger.error({ err: e, resourceId: data.resourceId }, 'could not record failed enqueue'));
    throw error;
  }
}

// The status a stack is left in when its job fails or is cancelled.
export function failedStatus(action: JobAction): ResourceStatus {
  return action === 'create' ? 'failed' : 'delete_failed';
}

// Wakes a resource's next job, which waits (delayed) for the one before it.
export async function promoteJob(queue: JobQueue, jobId: string | null): Promise<void> {
  if (!jobId) return;
  await (await queue.getJob(jobId))?.promote().catch(() => undefined);
}

// Records how a job ended, tells the requests waiting on it, and wakes the
// resource's next job.
export async function endJob(
  deps: Pick<CommandDeps, 'store' | 'queue'>,
  job: Pick<JobData, 'resourceId' | 'jobId'>,
  end: { jobStatus: 'succeeded' | 'failed' | 'cancelled'; resourceStatus: ResourceStatus; outputs?: Outputs; result?: JobResult; error?: JobError },
): Promise<void> {
  const { next } = await deps.store.jobs.finish({ resourceId: job.resourceId, jobId: job.jobId, ...end });
  await deps.store.channels.publishJobEvent({ resourceId: job.resourceId, jobId: job.jobId, status: end.jobStatus, resourceStatus: end.resourceStatus });
  await promoteJob(deps.queue, next);
}

// The job id of a resource's `expire` job; one per resource.
export function expireJobId(resourceId: string): string {
  return `x${resourceId}`;
}
