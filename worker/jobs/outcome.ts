// How a job's attempt ended, decided in one place and recorded in one place,
// for the processor and for the worker's handler of jobs whose workers kept
// dying alike.
import { endJob, failedStatus } from '../../core/lifecycle/index.ts';
import type { JobQueue } from '../../core/queue.ts';
import type { JobData, JobError } from '../../core/schemas/index.ts';
import type { Store } from '../../core/store/index.ts';
import { JobFailure } from '../job-failure.ts';

export type Outcome =
  // Stopped on a user's request: the stack keeps what Terraform saved.
  // `changedNothing`: it stopped before applying anything (an update's plan),
  // so the stack goes back to the status it had.
  | { kind: 'cancelled'; detail: JobError; changedNothing?: boolean }
  // Stopped because the worker is stopping: back to the queue, no attempt spent.
  | { kind: 'interrupted'; detail: JobError }
  // Could not start yet (the state lock is still held by an attempt that is
  // bound to let it go): back to the queue for a while, no attempt spent.
  | { kind: 'wait'; detail: JobError }
  // Failed, and another attempt may do better.
  | { kind: 'retry'; detail: JobError }
  | { kind: 'failed'; detail: JobError; changedNothing?: boolean };

export function classifyFailure(error: unknown, attempt: { cancelRequested: boolean; attemptsLeft: boolean }): Outcome {
  const failure = JobFailure.from(error);
  const { detail, changedNothing } = failure;
  if (failure.interrupted && attempt.cancelRequested) {
    const message = changedNothing
      ? `cancelled on request; ${detail.message} before anything was applied`
      : `cancelled on request; ${detail.message}, after saving state`;
    return { kind: 'cancelled', detail: { ...detail, message }, changedNothing };
  }
  if (failure.interrupted) return { kind: 'interrupted', detail };
  if (failure.waiting) return { kind: 'wait', detail };
  if (detail.retryable && attempt.attemptsLeft) return { kind: 'retry', detail };
  return { kind: 'failed', detail, changedNothing };
}

// Records the outcome on the job and its stack, and tells whoever waits.
export async function recordOutcome(
  deps: { store: Store; queue: JobQueue },
  data: Pick<JobData, 'stackId' | 'jobId' | 'action'>,
  outcome: Outcome,
): Promise<void> {
  const { store } = deps;
  switch (outcome.kind) {
    case 'cancelled':
    case 'failed':
      // The stack is left failed (create) or delete_failed (delete): what
      // Terraform made before it stopped is in the state, and a DELETE destroys
      // it. An update that applied nothing leaves the stack as it was.
      await endJob(deps, data, {
        jobStatus: outcome.kind,
        stackStatus:
          (outcome.changedNothing && (await store.jobs.previousStatus(data.jobId))) || failedStatus(data.action),
        error: outcome.detail,
      });
      return;
    case 'interrupted':
      await store.jobs.requeue(data.stackId, data.jobId, undefined);
      return;
    case 'wait':
    case 'retry':
      await store.jobs.requeue(data.stackId, data.jobId, outcome.detail);
      await store.channels.publishJobEvent({ stackId: data.stackId, jobId: data.jobId, status: 'queued' });
      return;
  }
}
