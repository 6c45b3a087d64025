// Changing a live stack: PATCH merges new inputs into the stack's (RFC 7396),
// checks them against the template as served now, and queues an update job
// that plans them; the plan is applied at once (auto_apply) or waits,
// `planned`, for approval (approve.ts).
import { AppError, validationFailed } from '../errors.ts';
import { applyMergePatch } from '../merge-patch.ts';
import type { Stack, StackInputs } from '../schemas/index.ts';
import type { Template } from '../templates/index.ts';
import { type LifecycleDeps, refOf, servedTemplate } from './deps.ts';
import { enqueueOrRecordFailure, newJob } from './enqueue.ts';
import { notValidForTemplate, openSealed, openSecrets, sealSecrets, splitSensitive } from './inputs.ts';
import { getStack } from './read.ts';
import { type AuditContext, type AuditNote, noted } from '../store/index.ts';

export type StackChange = { inputs: StackInputs; autoApply: boolean };

export async function updateStack(
  deps: LifecycleDeps,
  templateName: string,
  id: string,
  change: StackChange,
  audit: AuditContext,
): Promise<Stack> {
  const stack = await getStack(deps, id, templateName);
  if (stack.status !== 'ready' && stack.status !== 'update_failed') throw notUpdatable(id, stack.status);
  const template = servedTemplate(deps, templateName);
  // The inputs the caller set so far, sensitive ones included; defaults stay Terraform's.
  const current = { ...((await deps.store.stacks.setInputs(id)) ?? {}), ...(await openSecrets(deps, id)) };
  const merged = applyMergePatch(current, change.inputs) as StackInputs;
  const parsed = template.inputsSchema.safeParse(merged);
  if (!parsed.success) throw validationFailed(parsed.error.issues, 'body.inputs');
  return queueChange(
    deps,
    template,
    id,
    { inputs: parsed.data as StackInputs, autoApply: change.autoApply },
    noted(audit, 'stack.update'),
  );
}

// Runs the update an `update_failed` stack's last job asked for again: the
// same inputs, checked against the template as served now, planned afresh
// (what the failed apply left is in the state), applied at once only if that
// update was.
export async function retryUpdate(
  deps: LifecycleDeps,
  template: Template,
  stack: Stack,
  audit: AuditContext,
): Promise<Stack> {
  const asked = await deps.store.jobs.requestedChange(stack.job.id);
  if (!asked)
    throw new AppError('invalid-state', `resource ${stack.id}'s last job is not an update; send PATCH to change it`);
  const inputs = { ...asked.inputs, ...openSealed(deps, asked.secrets, stack.id) };
  const parsed = template.inputsSchema.safeParse(inputs);
  if (!parsed.success)
    throw notValidForTemplate(
      template,
      parsed.error.issues,
      "the failed update's inputs",
      'send PATCH with valid inputs',
    );
  return queueChange(
    deps,
    template,
    stack.id,
    { inputs: parsed.data as StackInputs, autoApply: asked.autoApply },
    noted(audit, 'stack.retry'),
  );
}

// Records and queues an update of the stack to `change.inputs` (all the
// inputs it sets, sensitive ones included).
async function queueChange(
  deps: LifecycleDeps,
  template: Template,
  id: string,
  change: StackChange,
  audit: AuditNote | undefined,
): Promise<Stack> {
  const inputs = change.inputs;
  const { open, sealed } = splitSensitive(template, inputs);
  const job = newJob(deps, id, template.version);
  const { jobId } = job;
  const request = await deps.store.stacks.requestUpdate({
    ...job,
    inputs: { ...template.defaults, ...open },
    setInputs: Object.keys(inputs),
    secrets: sealSecrets(deps, id, sealed),
    autoApply: change.autoApply,
    audit,
  });
  if (request.outcome === 'missing') throw new AppError('resource-not-found', `no resource with id ${id}`);
  if (request.outcome === 'conflict') throw notUpdatable(id, request.status);
  await enqueueOrRecordFailure(
    deps,
    {
      jobId,
      stackId: id,
      action: 'update',
      template: refOf(template),
      inputs: open,
      autoApply: change.autoApply,
      ...(audit ? { actor: audit.actor } : {}),
    },
    'update_failed',
    'the update job could not be queued; send PATCH again',
  );
  return getStack(deps, id);
}

function notUpdatable(id: string, status: string): AppError {
  return new AppError(
    'invalid-state',
    `only a ready or update_failed stack can be updated; resource ${id} is ${status}`,
  );
}
