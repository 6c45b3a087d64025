// The API's use cases, one function each: record the change, enqueue the job,
// and optionally wait for it. Routes call these and map the result to HTTP.
import { AppError } from '../core/errors.ts';
import { newJobId, newResourceId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { jobOptions, type JobQueue } from '../core/queue.ts';
import type { JobData, Resource, ResourceInputs, ResourceStatus } from '../core/schemas.ts';
import type { Store } from '../core/store.ts';
import type { JobWaiter } from './job-waiter.ts';

export type UseCaseDeps = {
  store: Store;
  queue: JobQueue;
  waiter: JobWaiter;
  logger: Logger;
  jobs: { attempts: number; backoffMs: number };
};

export async function createResource(deps: UseCaseDeps, inputs: ResourceInputs): Promise<Resource> {
  const id = newResourceId();
  const jobId = newJobId();
  await deps.store.createResource({ id, jobId, inputs, maxAttempts: deps.jobs.attempts });
  try {
    await deps.queue.add('create', { jobId, resourceId: id, action: 'create', inputs, retry: false }, jobOptions(jobId, deps.jobs.attempts, deps.jobs.backoffMs));
  } catch (error) {
    // The client will be told 503; leave nothing behind that claims otherwise.
    await deps.store.discardResource(id, jobId).catch((e: unknown) => deps.logger.error({ err: e, resourceId: id }, 'could not discard resource'));
    throw error;
  }
  return getResource(deps, id);
}

export async function getResource(deps: Pick<UseCaseDeps, 'store'>, id: string): Promise<Resource> {
  const resource = await deps.store.getResource(id);
  if (!resource) throw new AppError('resource-not-found', `no resource with id ${id}`);
  return resource;
}

// Re-applies a stack whose create failed, in the same workspace and with the
// same inputs. Any other status is a conflict: a delete is retried with DELETE.
export async function retryResource(deps: UseCaseDeps, id: string): Promise<Resource> {
  const jobId = newJobId();
  const request = await deps.store.requestRetry(id, jobId, deps.jobs.attempts);
  if (request.outcome === 'missing') throw new AppError('resource-not-found', `no resource with id ${id}`);
  if (request.outcome === 'conflict') {
    const hint = request.status === 'delete_failed' ? '; send DELETE again to retry the delete' : '';
    throw new AppError('invalid-state', `only a failed create can be retried; resource ${id} is ${request.status}${hint}`);
  }
  const resource = await getResource(deps, id);
  await enqueueOrRecordFailure(deps, { jobId, resourceId: id, action: 'create', inputs: resource.inputs, retry: true }, 'failed', 'the retry could not be queued; send it again');
  return resource;
}

export type DeleteOutcome = { resource: Resource; started: boolean };

// Idempotent: while a delete is queued or running, the same job is returned;
// a resource already deleted is returned as it is. A create that has not
// started yet is cancelled instead of being run and then destroyed.
export async function deleteResource(deps: UseCaseDeps, id: string): Promise<DeleteOutcome> {
  const jobId = newJobId();
  const request = await deps.store.requestDelete(id, jobId, deps.jobs.attempts);
  if (request.outcome === 'missing') throw new AppError('resource-not-found', `no resource with id ${id}`);
  if (request.outcome === 'cancelled') {
    // Requests waiting on either job (Prefer: wait) learn that it finished.
    await deps.store.publish({ resourceId: id, jobId: request.cancelledJobId, status: 'failed', resourceStatus: 'deleted' });
    await deps.store.publish({ resourceId: id, jobId: request.jobId, status: 'succeeded', resourceStatus: 'deleted' });
    // Tidy only: a worker that picks the cancelled job up anyway drops it.
    await deps.queue.remove(request.cancelledJobId).catch(() => undefined);
  }
  const resource = await getResource(deps, id);
  if (request.outcome !== 'created') return { resource, started: false };
  await enqueueOrRecordFailure(deps, { jobId, resourceId: id, action: 'delete', inputs: resource.inputs, retry: false }, 'delete_failed', 'the delete job could not be queued; send DELETE again');
  return { resource, started: true };
}

// Adds the job for a change already recorded on an existing resource. If the
// queue refuses it, the job is recorded as failed so the resource does not
// wait for a job that will never run, and the error goes on to the client.
async function enqueueOrRecordFailure(deps: UseCaseDeps, data: JobData, resourceStatus: ResourceStatus, message: string): Promise<void> {
  try {
    await deps.queue.add(data.action, data, jobOptions(data.jobId, deps.jobs.attempts, deps.jobs.backoffMs));
  } catch (error) {
    await deps.store
      .finishJob({
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
    const job = await deps.store.getJob(jobId);
    return job?.status === 'succeeded' || job?.status === 'failed';
  };
  await deps.waiter.waitFor(jobId, finished, AbortSignal.any([AbortSignal.timeout(seconds * 1000), cancelled]));
  return getResource(deps, resource.id);
}

export function isFinished(resource: Resource): boolean {
  return resource.job.status === 'succeeded' || resource.job.status === 'failed';
}
