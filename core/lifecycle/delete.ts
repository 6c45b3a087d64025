// A stack's delete, asked for by a user's DELETE or by its ttl running out.
import { AppError } from '../errors.ts';
import { newJobId } from '../ids.ts';
import type { Resource } from '../schemas/index.ts';
import type { DeleteRequest } from '../store/index.ts';
import type { LifecycleDeps } from './deps.ts';
import { enqueueOrRecordFailure } from './enqueue.ts';
import { getResource } from './read.ts';

// Idempotent: while a delete is queued or running, the same job is returned;
// a resource already deleted is returned as it is. A create that has not
// started yet is cancelled instead of being run and then destroyed.
export async function requestDeletion(deps: LifecycleDeps, id: string): Promise<DeleteRequest> {
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

export type DeleteOutcome = { resource: Resource; started: boolean };

export async function deleteStack(deps: LifecycleDeps, id: string): Promise<DeleteOutcome> {
  const request = await requestDeletion(deps, id);
  if (request.outcome === 'missing') throw new AppError('resource-not-found', `no resource with id ${id}`);
  return { resource: await getResource(deps, id), started: request.outcome === 'created' };
}
