// Queueing the job that carries out a change already recorded.
import { newJobId } from '../ids.ts';
import { jobOptions } from '../queue.ts';
import { type NewJobData, type StackStatus, toQueue } from '../schemas/index.ts';
import type { LifecycleDeps } from './deps.ts';

// A new job of a stack, as the store's request-* functions take it: a fresh
// id, the attempts it is allowed, and the version of the template it runs.
export function newJob(deps: Pick<LifecycleDeps, 'jobs'>, stackId: string, templateVersion: string) {
  return { id: stackId, jobId: newJobId(), maxAttempts: deps.jobs.attempts, templateVersion };
}

// The job id of a stack's `expire` job; one per stack.
export function expireJobId(stackId: string): string {
  return `x${stackId}`;
}

// Tells the API processes that a job was queued (the console's live pages
// show it). Only a notice: missing one delays a page, so it never fails the
// change, which is recorded and queued by now.
export async function announceQueued(
  deps: Pick<LifecycleDeps, 'store' | 'logger'>,
  stackId: string,
  jobId: string,
): Promise<void> {
  await deps.store.channels
    .publishJobEvent({ stackId, jobId, status: 'queued' })
    .catch((error: unknown) => deps.logger.warn({ err: error, stackId, jobId }, 'could not announce a queued job'));
}

// Adds the job for a change recorded on an existing stack. If the queue
// refuses it, the job is recorded as failed so the stack does not wait
// for a job that will never run, and the error goes on to the caller.
// `queueJobId`: the BullMQ job's id, when a job runs more than once (see approve.ts).
export async function enqueueOrRecordFailure(
  deps: LifecycleDeps,
  data: NewJobData,
  stackStatus: StackStatus,
  message: string,
  queueJobId: string = data.jobId,
): Promise<void> {
  try {
    // See JobData.statePrefix: a worker that would not know where the state is refuses the job.
    const statePrefix = await deps.store.jobs.statePrefix(data.stackId);
    await deps.queue.add(
      data.action,
      toQueue({ ...data, ...(statePrefix === undefined ? {} : { statePrefix }) }),
      jobOptions(queueJobId, deps.jobs.attempts, deps.jobs.backoffMs),
    );
    await announceQueued(deps, data.stackId, data.jobId);
  } catch (error) {
    await deps.store.jobs
      .finish({
        stackId: data.stackId,
        jobId: data.jobId,
        jobStatus: 'failed',
        stackStatus,
        error: { code: 'internal', message, retryable: true, diagnostics: [] },
      })
      .catch((e: unknown) => deps.logger.error({ err: e, stackId: data.stackId }, 'could not record failed enqueue'));
    throw error;
  }
}
