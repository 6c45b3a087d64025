// A speculative plan: what applying the stack's inputs with the template as
// served now would change, outside changes included. It never applies and
// never changes the stack.
import { AppError } from '../errors.ts';
import type { Job } from '../schemas/index.ts';
import { type LifecycleDeps, refOf, servedTemplate } from './deps.ts';
import { enqueueOrRecordFailure, newJob } from './enqueue.ts';
import { getJob, getStack } from './read.ts';
import { type AuditContext, noted } from '../store/index.ts';

export async function planStack(
  deps: LifecycleDeps,
  templateName: string,
  id: string,
  audit: AuditContext,
): Promise<Job> {
  await getStack(deps, id, templateName);
  const template = servedTemplate(deps, templateName);
  const job = newJob(deps, id, template.version);
  const { jobId } = job;
  const request = await deps.store.stacks.requestPlan({
    ...job,
    audit: noted(audit, 'stack.plan'),
  });
  if (request.outcome === 'missing') throw new AppError('resource-not-found', `no resource with id ${id}`);
  if (request.outcome === 'conflict') {
    throw new AppError('invalid-state', `only a ready stack can be planned; resource ${id} is ${request.status}`);
  }
  // One plan waits per stack: a request while it does gets that job, already queued.
  if (request.outcome === 'queued') return getJob(deps, request.jobId);
  const inputs = (await deps.store.stacks.setInputs(id)) ?? {};
  const data = {
    jobId,
    stackId: id,
    action: 'plan' as const,
    template: refOf(template),
    inputs,
    retry: false,
    actor: audit.actor,
  };
  // The status is not the stack's to change: a plan is never its current job.
  await enqueueOrRecordFailure(deps, data, 'ready', 'the plan job could not be queued; ask again');
  return getJob(deps, jobId);
}
