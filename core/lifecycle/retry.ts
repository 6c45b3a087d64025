// A failed create, or a failed update, tried again.
import { AppError } from '../errors.ts';
import type { Stack, StackInputs } from '../schemas/index.ts';
import type { Template } from '../templates/index.ts';
import { type LifecycleDeps, refOf, servedTemplate } from './deps.ts';
import { enqueueOrRecordFailure, newJob } from './enqueue.ts';
import { notValidForTemplate, openSecrets } from './inputs.ts';
import { getStack } from './read.ts';
import { retryUpdate } from './update.ts';
import { type AuditContext, noted } from '../store/index.ts';

// Re-applies a stack whose create failed, in the same workspace and with the
// same inputs, with the template as it is served now (an operator may have
// fixed what made the create fail). The inputs are checked against that
// version first, and the stack takes it. Any other status is a conflict: a
// delete is retried with DELETE.
export async function retryStack(
  deps: LifecycleDeps,
  templateName: string,
  id: string,
  audit: AuditContext,
): Promise<Stack> {
  const existing = await getStack(deps, id, templateName);
  const template = servedTemplate(deps, templateName);
  if (existing.status === 'update_failed') return retryUpdate(deps, template, existing, audit);
  const inputs = (await deps.store.stacks.setInputs(id)) ?? {};
  await checkInputs(deps, template, id, inputs);
  const job = newJob(deps, id, template.version);
  const { jobId } = job;
  const request = await deps.store.stacks.requestRetry({
    ...job,
    inputs: { ...template.defaults, ...inputs },
    audit: noted(audit, 'stack.retry'),
  });
  if (request.outcome === 'missing') throw new AppError('resource-not-found', `no resource with id ${id}`);
  if (request.outcome === 'conflict') {
    const hint = request.status === 'delete_failed' ? '; send DELETE again to retry the delete' : '';
    throw new AppError(
      'invalid-state',
      `only a failed create or update can be retried; resource ${id} is ${request.status}${hint}`,
    );
  }
  const stack = await getStack(deps, id);
  await enqueueOrRecordFailure(
    deps,
    { jobId, stackId: id, action: 'create', template: refOf(template), inputs, retry: true, actor: audit.actor },
    'failed',
    'the retry could not be queued; send it again',
  );
  return stack;
}

// The stack's inputs, sensitive ones included, must satisfy the template's
// schema as served now: a changed template may have made them invalid, and
// Terraform should not be the first to say so.
async function checkInputs(deps: LifecycleDeps, template: Template, id: string, inputs: StackInputs): Promise<void> {
  const advice = 'delete the stack, or create a new one with valid inputs';
  const secrets = await openSecrets(deps, id);
  // The catalogue serves no template with sensitive inputs without a key,
  // so this version has none to take them.
  if (!secrets) {
    const served = `${template.name} (version ${template.version})`;
    const detail = `the stack has sensitive inputs and template ${served} has none`;
    throw new AppError('inputs-not-valid-for-template', `${detail}; ${advice}`, {
      errors: [{ path: 'inputs', message: detail }],
    });
  }
  const result = template.inputsSchema.safeParse({ ...inputs, ...secrets });
  if (!result.success) throw notValidForTemplate(template, result.error.issues, "the stack's inputs", advice);
}
