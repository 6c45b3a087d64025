// One attempt of a job, around its action: the job's variables file, the
// workspace's state lock, state an earlier run could not save, then the
// action itself. The lock is released before this returns or throws, so a
// job that reads as finished never still holds it.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../core/logger.ts';
import { FINISHED_JOB_STATUSES, type JobData } from '../core/schemas/index.ts';
import type { SecretBox } from '../core/secret-box.ts';
import type { Store } from '../core/store/index.ts';
import { ACTIONS, type ActionSuccess } from './actions/index.ts';
import { errorText, JobFailure } from './job-failure.ts';
import type { JobLog } from './job-log.ts';
import type { S3State } from './s3-state.ts';
import { acquireStateLock, LockHeldError } from './state-lock.ts';
import type { TemplateRuntime } from './templates.ts';
import { WorkspaceRunner } from './workspace-runner.ts';

export type JobRunDeps = {
  store: Store;
  secrets: SecretBox | undefined;
  logger: Logger;
  varsDir: string;
  workerId: string;
};

// `runtime`: the job's template as this worker runs it (see templates.ts).
export async function runJob(deps: JobRunDeps, runtime: TemplateRuntime, data: JobData, jobLog: JobLog, signal: AbortSignal | undefined): Promise<ActionSuccess> {
  const { store } = deps;
  const log = (text: string) => jobLog.write(text);
  const varFile = path.join(deps.varsDir, `${data.jobId}.tfvars.json`);
  const planFile = path.join(deps.varsDir, `${data.jobId}.tfplan`);
  const { s3State } = runtime;
  let release: (() => Promise<void>) | undefined;
  try {
    // Only the inputs the caller set: Terraform applies the defaults.
    // An approved plan carries its own variables, so none are written then.
    const variables = { ...data.inputs, ...(data.approved ? {} : await sensitiveInputs(deps, data)), resource_id: data.resourceId };
    await writeFile(varFile, JSON.stringify(variables), { mode: 0o600 });
    if (s3State?.canLock) release = await lockWorkspace(deps, s3State, data, log);
    const terraform = new WorkspaceRunner(runtime.terraform, runtime.erroredState, {
      workspace: data.resourceId,
      varFile,
      holdsLock: release !== undefined,
      signal,
      log,
      progress: (progress) => jobLog.progress(progress),
    });
    await terraform.pushErroredState();
    return await ACTIONS[data.action]({ data, terraform, store, s3State, holdsLock: release !== undefined, log, planFile });
  } finally {
    await release?.().catch((error: unknown) => deps.logger.error({ err: error, jobId: data.jobId }, 'could not release the state lock'));
    await rm(varFile, { force: true });
    await rm(planFile, { force: true });
  }
}

// The stack's sensitive inputs, unsealed only here, for the variables file.
async function sensitiveInputs(deps: JobRunDeps, data: JobData): Promise<Record<string, unknown>> {
  // An update runs with its new inputs, the sensitive ones among them.
  const sealed = data.action === 'update' ? await deps.store.jobs.newSecrets(data.jobId) : await deps.store.resources.secrets(data.resourceId);
  if (sealed === undefined) return {};
  if (!deps.secrets) throw JobFailure.permanent('the stack has sensitive inputs, and this worker has no ENCRYPTION_KEY to read them');
  try {
    return JSON.parse(deps.secrets.open(sealed, data.resourceId)) as Record<string, unknown>;
  } catch (error) {
    throw JobFailure.permanent(`could not read the stack's sensitive inputs: ${errorText(error)}`);
  }
}

// What the lock says the holder is doing, as Terraform's own lock info would.
const LOCK_OPERATION: Record<JobData['action'], 'apply' | 'destroy' | 'plan'> = { create: 'apply', update: 'apply', delete: 'destroy', plan: 'plan' };

async function lockWorkspace(deps: JobRunDeps, s3State: S3State, data: JobData, log: (text: string) => void): Promise<() => Promise<void>> {
  try {
    return await acquireStateLock(
      {
        s3State,
        isWorkerAlive: (workerId) => deps.store.leases.isAlive(workerId),
        isJobOver: async (jobId) => {
          const job = await deps.store.jobs.get(jobId);
          return !job || FINISHED_JOB_STATUSES.includes(job.status);
        },
        log,
      },
      data.resourceId,
      { workerId: deps.workerId, jobId: data.jobId, operation: LOCK_OPERATION[data.action] },
    );
  } catch (error) {
    if (error instanceof LockHeldError) throw JobFailure.retryable(error.message);
    throw JobFailure.retryable(`could not reach the state backend to lock workspace ${data.resourceId}: ${errorText(error)}`);
  }
}
