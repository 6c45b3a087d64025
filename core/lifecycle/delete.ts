// A stack's delete, asked for by a user's DELETE or by its ttl running out.
import { AppError } from '../errors.ts';
import type { Stack } from '../schemas/index.ts';
import { type AuditContext, type DeleteRequest, noted } from '../store/index.ts';
import { type LifecycleDeps, refOf, servedTemplate } from './deps.ts';
import { enqueueOrRecordFailure, newJob } from './enqueue.ts';
import { getStack } from './read.ts';

// Idempotent: while a delete is queued or running, the same job is returned;
// a stack already deleted is returned as it is. A create that has not
// started yet is cancelled instead of being run and then destroyed. `audit`:
// who asked (none: the stack's ttl ran out).
export async function requestDeletion(deps: LifecycleDeps, id: string, audit?: AuditContext): Promise<DeleteRequest> {
  return requestDeletionOf(deps, id, await deps.store.stacks.get(id), audit);
}

// `existing`: the stack as read just before, or null.
async function requestDeletionOf(
  deps: LifecycleDeps,
  id: string,
  existing: Stack | null,
  audit: AuditContext | undefined,
): Promise<DeleteRequest> {
  // Terraform destroys with the template's configuration, so one that is not
  // served any more cannot be destroyed; refuse before recording anything.
  const template = existing && existing.status !== 'deleted' ? servedTemplate(deps, existing.template.name) : undefined;
  const job = newJob(deps, id, template?.version ?? '');
  const { jobId } = job;
  const request = await deps.store.stacks.requestDelete({
    ...job,
    audit: noted(audit, 'stack.delete'),
  });
  if (request.outcome === 'cancelled') {
    // Requests waiting on either job (Prefer: wait) learn that it finished.
    await deps.store.channels.publishJobEvent({
      stackId: id,
      jobId: request.cancelledJobId,
      status: 'cancelled',
      stackStatus: 'deleted',
    });
    await deps.store.channels.publishJobEvent({
      stackId: id,
      jobId: request.jobId,
      status: 'succeeded',
      stackStatus: 'deleted',
    });
    // Tidy only: a worker that picks the cancelled job up anyway drops it.
    await deps.queue.remove(request.cancelledJobId).catch(() => undefined);
  }
  if (request.outcome === 'created') {
    if (request.discardedJobId)
      await deps.store.channels.publishJobEvent({ stackId: id, jobId: request.discardedJobId, status: 'discarded' });
    const inputs = await deps.store.stacks.setInputs(id);
    if (!inputs || !template) throw new Error(`resource ${id} vanished while its delete was recorded`);
    await enqueueOrRecordFailure(
      deps,
      {
        jobId,
        stackId: id,
        action: 'delete',
        template: refOf(template),
        inputs,
        retry: false,
        ...(audit ? { actor: audit.actor } : {}),
      },
      'delete_failed',
      'the delete job could not be queued; send DELETE again',
    );
  }
  return request;
}

export type DeleteOutcome = { stack: Stack; started: boolean };

export async function deleteStack(
  deps: LifecycleDeps,
  templateName: string,
  id: string,
  audit: AuditContext,
): Promise<DeleteOutcome> {
  const existing = await deps.store.stacks.get(id);
  if (existing && existing.template.name !== templateName)
    throw new AppError('resource-not-found', `no ${templateName} resource with id ${id}`);
  const request = await requestDeletionOf(deps, id, existing, audit);
  if (request.outcome === 'missing') throw new AppError('resource-not-found', `no resource with id ${id}`);
  return { stack: await getStack(deps, id), started: request.outcome === 'created' };
}
