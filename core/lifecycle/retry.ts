// A failed create, tried again.
import { AppError } from '../errors.ts';
import { newJobId } from '../ids.ts';
import type { Resource } from '../schemas/index.ts';
import type { LifecycleDeps } from './deps.ts';
import { enqueueOrRecordFailure } from './enqueue.ts';
import { getResource } from './read.ts';

// Re-applies a stack whose create failed, in the same workspace and with the
// same inputs. Any other status is a conflict: a delete is retried with DELETE.
export async function retryCreate(deps: LifecycleDeps, id: string): Promise<Resource> {
  const jobId = newJobId();
  const request = await deps.store.resources.requestRetry(id, jobId, deps.jobs.attempts);
  if (request.outcome === 'missing') throw new AppError('resource-not-found', `no resource with id ${id}`);
  if (request.outcome === 'conflict') {
    const hint = request.status === 'delete_failed' ? '; send DELETE again to retry the delete' : '';
    throw new AppError('invalid-state', `only a failed create can be retried; resource ${id} is ${request.status}${hint}`);
  }
  const resource = await getResource(deps, id);
  await enqueueOrRecordFailure(deps, { jobId, resourceId: id, action: 'create', inputs: resource.inputs, retry: true }, 'failed', 'the retry could not be queued; send it again');
  return resource;
}
