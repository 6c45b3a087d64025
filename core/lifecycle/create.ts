// A new stack: recorded with its create job, then the job queued (and, with a
// ttl, the job that destroys it when the ttl runs out).
import { createHash } from 'node:crypto';
import { AppError, projectNotFound } from '../errors.ts';
import { newJobId, newStackId, stackStatePrefix } from '../ids.ts';
import { jobOptions, type JobQueue } from '../queue.ts';
import { type Stack, type StackInputs, type TemplateRef, toQueue } from '../schemas/index.ts';
import { canonicalJson, type Template } from '../templates/index.ts';
import { DEFAULT_PROJECT, type Principal } from '../access/roles.ts';
import { type AuditContext, type CreateOutcome as StoreCreateOutcome, noted } from '../store/index.ts';
import { type LifecycleDeps, refOf } from './deps.ts';
import { announceQueued, expireJobId } from './enqueue.ts';
import { sealSecrets, splitSensitive } from './inputs.ts';
import { getStack } from './read.ts';

export type CreateOutcome = { stack: Stack; replayed: boolean };

// A create request, validated with the template's schema: the inputs the
// caller set, and the ttl in seconds.
export type NewStack = { inputs: StackInputs; ttl?: number | undefined };

// Records the stack and queues its create job (and, with a ttl, its
// expire job). With an Idempotency-Key seen before, returns the stack that
// key made, or refuses a different request under the same key.
export async function createStack(
  deps: LifecycleDeps & { maxLiveStacksPerToken: number },
  principal: Pick<Principal, 'name' | 'key'>,
  project: string,
  template: Template,
  request: NewStack,
  idempotencyKey: string | undefined,
  // Who asks (the stack's owner), and in which request, for the audit log.
  audit: AuditContext,
): Promise<CreateOutcome> {
  const { ttl, inputs } = request;
  const id = newStackId();
  const jobId = newJobId();
  const { open, sealed } = splitSensitive(template, inputs);
  const secrets = sealSecrets(deps, id, sealed);
  // A secret enters the fingerprint (kept in Redis for a day) as a keyed
  // digest: a plain hash of a short password could be guessed.
  const secretDigest = secrets === undefined ? null : deps.secrets?.digest(canonicalJson(sealed));
  // The project enters it too, so one key cannot make stacks in two projects;
  // not for the default one, whose keys from before projects must still match.
  const scope = project === DEFAULT_PROJECT ? [] : [project];
  const fingerprint = createHash('sha256')
    .update(canonicalJson([template.name, open, secretDigest, ttl ?? null, ...scope]))
    .digest('hex');
  const expiresAt = ttl === undefined ? undefined : new Date(Date.now() + ttl * 1000);
  const ref = refOf(template);
  const created = await deps.store.stacks.create({
    id,
    jobId,
    template: ref,
    inputs: { ...template.defaults, ...open },
    setInputs: Object.keys(inputs),
    secrets,
    maxAttempts: deps.jobs.attempts,
    owner: principal.key,
    createdBy: principal.name,
    project,
    maxLive: deps.maxLiveStacksPerToken,
    expiresAt,
    idempotency: idempotencyKey === undefined ? undefined : { key: idempotencyKey, fingerprint },
    audit: noted(audit, 'stack.create'),
  });
  if (created.outcome === 'replay') {
    if (created.fingerprint !== fingerprint) {
      throw new AppError(
        'idempotency-key-reused',
        'this Idempotency-Key was used with a different request body; use a new key for a new request',
      );
    }
    return { stack: await requeued(deps, created.stackId, audit), replayed: true };
  }
  if (created.outcome !== 'created') throw refusal(created, project, principal.name);
  try {
    await deps.queue.addBulk(jobsFor(deps, id, jobId, ref, open, expiresAt?.toISOString() ?? null, audit));
  } catch (error) {
    // The client will be told 503; leave nothing behind that claims otherwise.
    await deps.store.stacks
      .discard(id, jobId, principal.key, idempotencyKey)
      .catch((e: unknown) => deps.logger.error({ err: e, stackId: id }, 'could not discard stack'));
    throw error;
  }
  await announceQueued(deps, id, jobId);
  return { stack: await getStack(deps, id), replayed: false };
}

// The stack an Idempotency-Key made before. The first request may have
// recorded the stack and then failed to queue its job (Redis went away
// between the two; that client was told 503). Queue it now: BullMQ ignores a
// job id it already has.
async function requeued(deps: LifecycleDeps, stackId: string, audit: AuditContext): Promise<Stack> {
  const stack = await getStack(deps, stackId);
  if (stack.status === 'creating' && stack.job.action === 'create' && stack.job.status === 'queued') {
    const vars = (await deps.store.stacks.setInputs(stack.id)) ?? {};
    await deps.queue.addBulk(jobsFor(deps, stack.id, stack.job.id, stack.template, vars, stack.expires_at, audit));
  }
  return stack;
}

// Why the store refused to record the stack.
function refusal(
  created: Extract<StoreCreateOutcome, { outcome: 'no-project' | 'quota' | 'cap' }>,
  project: string,
  owner: string,
): AppError {
  switch (created.outcome) {
    case 'no-project':
      return projectNotFound(project);
    case 'quota':
      return new AppError(
        'quota-exceeded',
        `project "${project}" already has ${created.max} live stacks, its quota (max_stacks); delete some, ` +
          'or ask an admin of the project to raise it',
      );
    case 'cap':
      return new AppError(
        'resource-limit-reached',
        `"${owner}" already has ${created.live} live resources, the most allowed; delete some first`,
      );
  }
}

// A new stack's jobs: its create, and its expire job when it has a ttl.
function jobsFor(
  deps: LifecycleDeps,
  id: string,
  jobId: string,
  template: TemplateRef,
  inputs: StackInputs,
  expiresAt: string | null,
  audit: AuditContext,
): Parameters<JobQueue['addBulk']>[0] {
  const jobs: Parameters<JobQueue['addBulk']>[0] = [
    {
      name: 'create',
      data: toQueue({
        jobId,
        stackId: id,
        action: 'create',
        template,
        inputs,
        retry: false,
        actor: audit.actor,
        statePrefix: stackStatePrefix(id),
      }),
      opts: jobOptions(jobId, deps.jobs.attempts, deps.jobs.backoffMs),
    },
  ];
  if (expiresAt !== null) {
    jobs.push({
      name: 'expire',
      data: toQueue({ stackId: id }),
      opts: {
        ...jobOptions(expireJobId(id), deps.jobs.attempts, deps.jobs.backoffMs),
        delay: Math.max(0, Date.parse(expiresAt) - Date.now()),
      },
    });
  }
  return jobs;
}
