// Stack and job hashes as read from Redis, turned into the API's shapes.
import { DEFAULT_PROJECT } from '../access/roles.ts';
import { LEGACY_TEMPLATE } from '../legacy.ts';
import type { Drift, DriftStatus, Job, JobAction, JobError, JobPolicy, JobProgress } from '../schemas/index.ts';
import type { JobResult, JobStatus, Outputs, Plan, PlannedChange } from '../schemas/index.ts';
import type { Stack, StackInputs, StackStatus } from '../schemas/index.ts';

type Hash = Record<string, string>;

export function toStack(hash: Hash): Stack {
  const jobId = hash.job_id ?? '';
  const stack: Stack = {
    id: hash.id ?? '',
    // Records from before projects are in the default one (see migrations.ts).
    project: hash.project ?? DEFAULT_PROJECT,
    status: hash.status as StackStatus,
    // A record from before templates has no version (see migrations.ts).
    template: { name: hash.template ?? LEGACY_TEMPLATE, version: hash.template_version ?? '' },
    inputs: parseJson<StackInputs>(hash.inputs) as Stack['inputs'],
    outputs: parseJson<Outputs>(hash.outputs) ?? {},
    created_by: hash.created_by ?? '',
    expires_at: hash.expires_at || null,
    created_at: hash.created_at ?? '',
    updated_at: hash.updated_at ?? '',
    job: {
      id: jobId,
      action: hash.job_action as JobAction,
      status: hash.job_status as JobStatus,
      href: `/api/jobs/${jobId}`,
    },
    drift: toDrift(hash),
    // A stack recorded before stacks had their own prefix has none: its state
    // stays under the backend's (see stackStatePrefix in core/ids.ts).
    state: { workspace: hash.id ?? '', workspace_key_prefix: hash.state_prefix || null },
  };
  const error = toJobError(hash.error);
  if (error) stack.error = error;
  return stack;
}

// A stack never checked (or recorded before drift was) is `unknown`.
function toDrift(hash: Hash): Drift {
  const jobId = hash.drift_job_id;
  if (!hash.drift_status || !jobId) return { status: 'unknown', checked_at: null, job: null, resources: [] };
  return {
    status: hash.drift_status as DriftStatus,
    checked_at: hash.drift_checked_at ?? null,
    job: { id: jobId, href: `/api/jobs/${jobId}` },
    resources: parseJson<PlannedChange[]>(hash.drift_resources) ?? [],
  };
}

export function toJob(hash: Hash): Job {
  const id = hash.id ?? '';
  const job: Job = {
    id,
    resource_id: hash.resource_id ?? '',
    project: hash.project ?? DEFAULT_PROJECT,
    action: hash.action as JobAction,
    status: hash.status as JobStatus,
    // A job recorded before templates has neither.
    template: { name: hash.template ?? LEGACY_TEMPLATE, version: hash.template_version ?? '' },
    attempts: Number(hash.attempts ?? 0),
    max_attempts: Number(hash.max_attempts ?? 1),
    progress: parseJson<JobProgress>(hash.progress) ?? { completed: 0, total: null },
    created_at: hash.created_at ?? '',
    started_at: hash.started_at ?? null,
    finished_at: hash.finished_at ?? null,
    updated_at: hash.updated_at ?? '',
    created_by: hash.created_by ?? null,
    href: `/api/jobs/${id}`,
    log_href: `/api/jobs/${id}/log`,
  };
  const result = parseJson<JobResult>(hash.result);
  if (result) job.result = result;
  const plan = parseJson<Plan>(hash.plan);
  if (plan) job.plan = plan;
  const error = toJobError(hash.error);
  if (error) job.error = error;
  if (hash.approved_by) job.approved_by = hash.approved_by;
  const policy = parseJson<JobPolicy>(hash.policy);
  if (policy) job.policy = policy;
  return job;
}

// An error recorded before codes existed gets the code it would have had if
// Terraform's diagnostics name an error, and `internal` otherwise.
function toJobError(value: string | undefined): JobError | undefined {
  const error = parseJson<Omit<JobError, 'code'> & Partial<Pick<JobError, 'code'>>>(value);
  if (!error) return undefined;
  const fromTerraform = error.diagnostics.some((d) => d.severity === 'error');
  return { ...error, code: error.code ?? (fromTerraform ? 'terraform-failed' : 'internal') };
}

function parseJson<T>(value: string | undefined): T | undefined {
  return value ? (JSON.parse(value) as T) : undefined;
}
