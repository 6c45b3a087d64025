// A failed create, tried again.
import { AppError } from '../errors.ts';
import { newJobId } from '../ids.ts';
import type { Resource } from '../schemas/index.ts';
import { type LifecycleDeps, refOf, servedTemplate } from './deps.ts';
import { enqueueOrRecordFailure } from './enqueue.ts';
import { getResource } from './read.ts';

// Re-applies a stack whose create failed, in the same workspace and with the
// same inputs, with the template as it is served now (an operator may have
// fixed what made the create fail). Any other status is a conflict: a delete
// is retried with DELETE.
export async function retryCreate(deps: LifecycleDeps, templateName: string, id: string): Promise<Resource> {
  await getResource(deps, id, templateName);
  const template = servedTemplate(deps, templateName);
  const inputs = (await deps.store.resources.setInputs(id)) ?? {};
  const jobId = newJobId();
  const request = await deps.store.resources.requestRetry(id, jobId, deps.jobs.attempts);
  if (request.outcome === 'missing') throw new AppError('resource-not-found', `no resource with id ${id}`);
  if (request.outcome === 'conflict') {
    const hint = request.status === 'delete_failed' ? '; send DELETE again to retry the delete' : '';
    throw new AppError('invalid-state', `only a failed create can be retried; resource ${id} is ${request.status}${hint}`);
  }
  const resource = await getResource(deps, id);
  await enqueueOrRecordFailure(deps, { jobId, resourceId: id, action: 'create', template: refOf(template), inputs, retry: true }, 'failed', 'the retry could not be queued; send it again');
  return resource;
}
