// Reading a stack or a job that must exist.
import { AppError } from '../errors.ts';
import type { Job, Stack } from '../schemas/index.ts';
import type { LifecycleDeps } from './deps.ts';

// `templateName`: only a stack of this template (a route's own).
export async function getStack(deps: Pick<LifecycleDeps, 'store'>, id: string, templateName?: string): Promise<Stack> {
  const stack = await deps.store.stacks.get(id);
  if (!stack || (templateName !== undefined && stack.template.name !== templateName)) {
    throw new AppError(
      'resource-not-found',
      `no ${templateName === undefined ? '' : `${templateName} `}resource with id ${id}`,
    );
  }
  return stack;
}

export async function getJob(deps: Pick<LifecycleDeps, 'store'>, jobId: string): Promise<Job> {
  const job = await deps.store.jobs.get(jobId);
  if (!job) throw new AppError('job-not-found', `no job with id ${jobId}`);
  return job;
}
