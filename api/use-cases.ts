// The API's use cases, one function each: record the change, enqueue the job,
// and optionally wait for it. Routes call these and map the result to HTTP.
import { createHash } from 'node:crypto';
import { type CommandDeps, enqueueOrRecordFailure, expireJobId, promoteJob, requestDeletion } from '../core/commands.ts';
import { AppError } from '../core/errors.ts';
import { newJobId, newResourceId } from '../core/ids.ts';
import { jobOptions, type JobQueue } from '../core/queue.ts';
import { type CreateRequest, FINISHED_JOB_STATUSES, type Job, type JobStatus, type Resource, type ResourceInputs } from '../core/schemas.ts';
import type { Principal } from '../core/tokens.ts';
import type { JobWaiter } from './job-waiter.ts';

export type UseCaseDeps = CommandDeps & {
  waiter: JobWaiter;
  maxLiveResourcesPerToken: number;
};

export type CreateOutcome = { resource: Resource; replayed: boolean };

// Records the resource and queues its create job (and, with a ttl, its
// expire job). With an Idempotency-Key seen before, returns the resource that
// key made, or refuses a different request under the same key.
export async function createResource(
  deps: UseCaseDeps,
  principal: Principal,
  request: CreateRequest,
  idempotencyKey: string | undefined,
): Promise<CreateOutcome> {
  const { ttl, ...inputs } = request;
  const id = newResourceId();
  const jobId = newJobId();
  const fingerprint = createHash('sha256').update(JSON.stringify([inputs.instance_type, inputs.node_count, sortedEntries(inputs.tags), ttl ?? null])).digest('hex');
  const expiresAt = ttl === undefined ? undefined : new Date(Date.now() + ttl * 1000);
  const created = await deps.store.resources.create({
    id,
    jobId,
    inputs,
    maxAttempts: deps.jobs.attempts,
    owner: principal.name,
    maxLive: deps.maxLiveResourcesPerToken,
    expiresAt,
    idempotency: idempotencyKey === undefined ? undefined : { key: idempotencyKey, fingerprint },
  });
  if (created.outcome === 'replay') {
    if (created.fingerprint !== fingerprint) {
      throw new AppError('idempotency-key-reused', 'this Idempotency-Key was used with a different request body; use a new key for a new request');
    }
    const resource = await getResource(deps, created.resourceId);
    // The first request may have recorded the resource and then failed to
    // queue its job (Redis went away between the two; that client was told
    // 503). Queue it now: BullMQ ignores a job id it already has.
    if (resource.status === 'creating' && resource.job.action === 'create' && resource.job.status === 'queued') {
      await deps.queue.addBulk(jobsFor(deps, resource.id, resource.job.id, resource.inputs, resource.expires_at));
    }
    return { resource, replayed: true };
  }
  if (created.outcome === 'cap') {
    throw new AppError('resource-limit-reached', `token "${principal.name}" already has ${created.live} live resources, the most allowed; delete some first`);
  }
  try {
    await deps.queue.addBulk(jobsFor(deps, id, jobId, inputs, expiresAt?.toISOString() ?? null));
  } catch (error) {
    // The client will be told 503; leave nothing behind that claims otherwise.
    await deps.store
      .resources.discard(id, jobId, principal.name, idempotencyKey)
      .catch((e: unknown) => deps.logger.error({ err: e, resourceId: id }, 'could not discard resource'));
    throw error;
  }
  return { resource: await getResource(deps, id), replayed: false };
}

// A new stack's jobs: its create, and its expire job when it has a ttl.
function jobsFor(deps: UseCaseDeps, id: string, jobId: string, inputs: ResourceInputs, expiresAt: string | null): Parameters<JobQueue['addBulk']>[0] {
  const jobs: Parameters<JobQueue['addBulk']>[0] = [
    { name: 'create', data: { jobId, resourceId: id, action: 'create', inputs, retry: false }, opts: jobOptions(jobId, deps.jobs.attempts, deps.jobs.backoffMs) },
  ];
  if (expiresAt !== null) {
    jobs.push({
      name: 'expire',
      data: { resourceId: id },
      opts: { ...jobOptions(expireJobId(id), deps.jobs.attempts, deps.jobs.backoffMs), delay: Math.max(0, Date.parse(expiresAt) - Date.now()) },
    });
  }
  return jobs;
}

function sortedEntries(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export async function getResource(deps: Pick<UseCaseDeps, 'store'>, id: string): Promise<Resource> {
  const resource = await deps.store.resources.get(id);
  if (!resource) throw new AppError('resource-not-found', `no resource with id ${id}`);
  return resource;
}

export async function getJob(deps: Pick<UseCaseDeps, 'store'>, jobId: string): Promise<Job> {
  const job = await deps.store.jobs.get(jobId);
  if (!job) throw new AppError('job-not-found', `no job with id ${jobId}`);
  return job;
}

// Re-applies a stack whose create failed, in the same workspace and with the
// same inputs. Any other status is a conflict: a delete is retried with DELETE.
export async function retryResource(deps: UseCaseDeps, id: string): Promise<Resource> {
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

export type DeleteOutcome = { resource: Resource; started: boolean };

export async function deleteResource(deps: UseCaseDeps, id: string): Promise<DeleteOutcome> {
  const request = await requestDeletion(deps, id);
  if (request.outcome === 'missing') throw new AppError('resource-not-found', `no resource with id ${id}`);
  return { resource: await getResource(deps, id), started: request.outcome === 'created' };
}

// Cancels a job. A queued one is removed at once; a running one is
// interrupted by its worker (one SIGINT to Terraform, then a kill after the
// grace period), so the job reads "running" until Terraform has stopped.
export async function cancelJob(deps: UseCaseDeps, jobId: string): Promise<Job> {
  const job = await getJob(deps, jobId);
  const outcome = await deps.store.jobs.cancel(job.resource_id, jobId);
  switch (outcome.outcome) {
    case 'missing':
      throw new AppError('job-not-found', `no job with id ${jobId}`);
    case 'finished':
      throw new AppError('invalid-state', `job ${jobId} has already finished (${outcome.status}); only a queued or running job can be cancelled`);
    case 'cancelled': {
      const resource = await deps.store.resources.get(job.resource_id);
      const resourceStatus = resource?.job.id === jobId ? resource.status : undefined;
      await deps.store.channels.publishJobEvent({ resourceId: job.resource_id, jobId, status: 'cancelled', ...(resourceStatus ? { resourceStatus } : {}) });
      await deps.queue.remove(jobId).catch(() => undefined);
      // The resource's next job may be waiting (delayed) for this one.
      await promoteJob(deps.queue, outcome.next);
      break;
    }
    case 'signalled':
      await deps.store.channels.requestCancel(jobId);
      break;
  }
  return getJob(deps, jobId);
}

// Waits up to `seconds` for the resource's current job to finish and returns
// the resource as it is then.
export async function waitForResource(
  deps: Pick<UseCaseDeps, 'store' | 'waiter'>,
  resource: Resource,
  seconds: number,
  cancelled: AbortSignal,
): Promise<Resource> {
  const jobId = resource.job.id;
  const finished = async () => {
    const job = await deps.store.jobs.get(jobId);
    return job !== null && isJobFinished(job.status);
  };
  await deps.waiter.waitFor(jobId, finished, AbortSignal.any([AbortSignal.timeout(seconds * 1000), cancelled]));
  return getResource(deps, resource.id);
}

export function isFinished(resource: Resource): boolean {
  return isJobFinished(resource.job.status);
}

export function isJobFinished(status: JobStatus): boolean {
  return FINISHED_JOB_STATUSES.includes(status);
}
