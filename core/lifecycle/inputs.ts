// A stack's inputs as the lifecycle handles them: the sensitive ones are only
// ever stored sealed, apart from the others, and opened only to be checked
// or handed to Terraform.
import type { z } from 'zod';
import { AppError, fieldErrors } from '../errors.ts';
import type { StackInputs } from '../schemas/index.ts';
import type { Template } from '../templates/index.ts';
import type { LifecycleDeps } from './deps.ts';

// The inputs shown and queued, and the sensitive ones.
export function splitSensitive(template: Template, inputs: StackInputs): { open: StackInputs; sealed: StackInputs } {
  const sensitive = new Set(template.inputs.filter((input) => input.sensitive).map((input) => input.name));
  const open: StackInputs = {};
  const sealed: StackInputs = {};
  for (const [name, value] of Object.entries(inputs)) (sensitive.has(name) ? sealed : open)[name] = value;
  return { open, sealed };
}

// The sensitive inputs sealed for stack `id`, or undefined when there are none.
export function sealSecrets(deps: Pick<LifecycleDeps, 'secrets'>, id: string, sealed: StackInputs): string | undefined {
  if (Object.keys(sealed).length === 0) return undefined;
  // The catalogue refuses a template with sensitive inputs when there is no key.
  if (!deps.secrets) throw new Error('sensitive inputs without ENCRYPTION_KEY');
  return deps.secrets.seal(JSON.stringify(sealed), id);
}

// The stack's sealed sensitive inputs, opened: {} when it has none, undefined
// when it has some and there is no key to open them.
export async function openSecrets(
  deps: Pick<LifecycleDeps, 'store' | 'secrets'>,
  id: string,
): Promise<StackInputs | undefined> {
  return openSealed(deps, await deps.store.stacks.secrets(id), id);
}

// Sensitive inputs sealed for stack `id` (its own, or an update's), opened.
export function openSealed(
  deps: Pick<LifecycleDeps, 'secrets'>,
  sealed: string | undefined,
  id: string,
): StackInputs | undefined {
  if (sealed === undefined) return {};
  if (!deps.secrets) return undefined;
  return JSON.parse(deps.secrets.open(sealed, id)) as StackInputs;
}

// 409: inputs kept on a stack (`whose`) that the template as served now
// refuses, each field named, and what the user can do (`advice`).
export function notValidForTemplate(
  template: Template,
  issues: readonly z.core.$ZodIssue[],
  whose: string,
  advice: string,
): AppError {
  const errors = fieldErrors(issues, 'inputs');
  const detail =
    `${whose} do not satisfy template ${template.name} as served now (version ${template.version}): ` +
    `${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`;
  return new AppError('inputs-not-valid-for-template', `${detail}; ${advice}`, { errors });
}
