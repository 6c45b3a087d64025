// Queueing the job that carries out a change already recorded.
import { jobOptions } from '../queue.ts';
import type { NewJobData, ResourceStatus } from '../schemas/index.ts';
import type { LifecycleDeps } from './deps.ts';

// The job id of a resource's `expire` job; one per resource.
export function expireJobId(resourceId: string): string {
  return `x${resourceId}`;
}

// Tells the API processes that a job was queued (the console's live pages
// show it). Only a notice: missing one delays a page, so it never fails the
// change, which is recorded and queued by now.
export async function announceQueued(
  deps: Pick<LifecycleDeps, 'store' | 'logger'>,
  resourceId: string,
  jobId: string,
): Promise<void> {
  await deps.store.channels
    .publishJobEvent({ resourceId, jobId, status: 'queued' })
    .catch((error: unknown) => deps.logger.warn({ err: error, resourceId, jobId }, 'could not announce a queued job'));
}

// Adds the job for a change recorded on an existing resource. If the queue
// refuses it, the job is recorded as failed so the resource does not wait
// for a job that will never run, and the error goes on to the caller.
// `queueJobId`: the BullMQ job's id, when a job runs more than once (see approve.ts).
export async function enqueueOrRecordFailure(
  deps: LifecycleDeps,
  data: NewJobData,
  resourceStatus: ResourceStatus,
  message: string,
  queueJobId: string = data.jobId,
): Promise<void> {
  try {
    // See JobData.statePrefix: a worker that would not know where the state is refuses the job.
    const statePrefix = await deps.store.jobs.statePrefix(data.resourceId);
    await deps.queue.add(
      data.action,
      { ...data, ...(statePrefix === undefined ? {} : { statePrefix }) },
      jobOptions(queueJobId, deps.jobs.attempts, deps.jobs.backoffMs),
    );
    await announceQueued(deps, data.resourceId, data.jobId);
  } catch (error) {
    await deps.store.jobs
      .finish({
        resourceId: data.resourceId,
        jobId: data.jobId,
        jobStatus: 'failed',
        resourceStatus,
        error: { code: 'internal', message, retryable: true, diagnostics: [] },
      })
      .catch((e: unknown) =>
        deps.logger.error({ err: e, resourceId: data.resourceId }, 'could not record failed enqueue'),
      );
    throw error;
  }
}
