// Reading a resource or a job that must exist.
import { AppError } from '../errors.ts';
import type { Job, Resource } from '../schemas/index.ts';
import type { LifecycleDeps } from './deps.ts';

// `templateName`: only a resource of this template (a route's own).
export async function getResource(
  deps: Pick<LifecycleDeps, 'store'>,
  id: string,
  templateName?: string,
): Promise<Resource> {
  const resource = await deps.store.resources.get(id);
  if (!resource || (templateName !== undefined && resource.template.name !== templateName)) {
    throw new AppError(
      'resource-not-found',
      `no ${templateName === undefined ? '' : `${templateName} `}resource with id ${id}`,
    );
  }
  return resource;
}

export async function getJob(deps: Pick<LifecycleDeps, 'store'>, jobId: string): Promise<Job> {
  const job = await deps.store.jobs.get(jobId);
  if (!job) throw new AppError('job-not-found', `no job with id ${jobId}`);
  return job;
}
