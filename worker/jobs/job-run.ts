// One attempt of a job, around its action: the job's own working directory
// and variables file, the workspace's state lock, state an earlier run could
// not save, then the action itself. The lock is released before this returns
// or throws, so a job that reads as finished never still holds it.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../core/logger.ts';
import { FINISHED_JOB_STATUSES, type JobData } from '../../core/schemas/index.ts';
import type { SecretBox } from '../../core/secret-box.ts';
import type { Store } from '../../core/store/index.ts';
import { ACTIONS, type ActionSuccess } from './actions/index.ts';
import { JobFailure, stateBackendUnavailable } from '../job-failure.ts';
import { makeJobDataDir, makeJobDir } from '../terraform/job-dir.ts';
import { policyGate } from './policy-gate.ts';
import type { JobLog } from './job-log.ts';
import type { S3State } from '../terraform/s3-state.ts';
import { acquireStateLock, LockHeldError, type LockTiming } from '../terraform/state-lock.ts';
import type { TemplateRuntime } from '../terraform/templates.ts';
import { WorkspaceRunner } from '../terraform/workspace-runner.ts';

export type JobRunDeps = {
  store: Store;
  secrets: SecretBox | undefined;
  logger: Logger;
  // Where each job gets its own directory, removed when it ends.
  jobsDir: string;
  workerId: string;
  lockTiming: LockTiming;
  // The time limit of one policy's rule.
  policyTimeoutMs: number;
};

// `runtime`: the job's template as this worker runs it (see ../terraform/templates.ts).
export async function runJob(
  deps: JobRunDeps,
  runtime: TemplateRuntime,
  data: JobData,
  jobLog: JobLog,
  signal: AbortSignal | undefined,
): Promise<ActionSuccess> {
  const { store } = deps;
  const log = (text: string) => jobLog.write(text);
  const root = path.join(deps.jobsDir, data.jobId);
  const varFile = path.join(root, 'job.tfvars.json');
  const planFile = path.join(root, 'job.tfplan');
  // The stack's state is under a prefix of its own, unless it is from before
  // stacks had one (see stackStatePrefix in core/ids.ts).
  const statePrefix = await store.jobs.statePrefix(data.stackId);
  const s3State = runtime.s3State?.forStack(statePrefix);
  // Terraform also stops when the lock is taken from the job.
  const lockLost = new AbortController();
  let release: (() => Promise<void>) | undefined;
  try {
    const cwd = await makeJobDir(runtime.template.dir, runtime.moduleReach, path.join(root, 'config'));
    const dataDir =
      statePrefix === undefined
        ? undefined
        : await makeJobDataDir(runtime.terraform.settings.dataDir, statePrefix, path.join(root, 'data'));
    // Only the inputs the caller set: Terraform applies the defaults.
    // An approved plan carries its own variables, so none are written then.
    // The stack's id comes last: no input may stand in for it.
    const variables = {
      ...data.inputs,
      ...(data.approved ? {} : await sensitiveInputs(deps, data)),
      resource_id: data.stackId,
    };
    await writeFile(varFile, JSON.stringify(variables), { mode: 0o600 });
    if (s3State?.canLock) release = await lockWorkspace(deps, s3State, data, log, () => lockLost.abort('lock-lost'));
    const terraform = new WorkspaceRunner(runtime.terraform, runtime.erroredState, {
      workspace: data.stackId,
      cwd,
      dataDir,
      varFile,
      holdsLock: release !== undefined,
      signal: signal ? AbortSignal.any([signal, lockLost.signal]) : lockLost.signal,
      log,
      progress: (progress) => jobLog.progress(progress),
    });
    await terraform.pushErroredState();
    const gate = await policyGate(store, data, deps.policyTimeoutMs);
    return await ACTIONS[data.action]({
      data,
      terraform,
      store,
      s3State,
      holdsLock: release !== undefined,
      log,
      planFile,
      gate,
    });
  } finally {
    await release?.().catch((error: unknown) =>
      deps.logger.error({ err: error, jobId: data.jobId }, 'could not release the state lock'),
    );
    await rm(root, { recursive: true, force: true });
  }
}

// The stack's sensitive inputs, unsealed only here, for the variables file.
async function sensitiveInputs(deps: JobRunDeps, data: JobData): Promise<Record<string, unknown>> {
  // An update runs with its new inputs, the sensitive ones among them.
  const sealed =
    data.action === 'update'
      ? await deps.store.jobs.newSecrets(data.jobId)
      : await deps.store.stacks.secrets(data.stackId);
  if (sealed === undefined) return {};
  if (!deps.secrets)
    throw JobFailure.permanent(
      'sensitive-inputs-unreadable',
      'the stack has sensitive inputs, and this worker has no ENCRYPTION_KEY to read them',
    );
  try {
    return JSON.parse(deps.secrets.open(sealed, data.stackId)) as Record<string, unknown>;
  } catch (error) {
    const message =
      "could not open the stack's sensitive inputs: the workers' ENCRYPTION_KEY is not the one they were sealed with";
    throw JobFailure.permanent('sensitive-inputs-unreadable', message, { cause: error });
  }
}

// What the lock says the holder is doing, as Terraform's own lock info would.
const LOCK_OPERATION: Record<JobData['action'], 'apply' | 'destroy' | 'plan'> = {
  create: 'apply',
  update: 'apply',
  delete: 'destroy',
  plan: 'plan',
};

async function lockWorkspace(
  deps: JobRunDeps,
  s3State: S3State,
  data: JobData,
  log: (text: string) => void,
  onLost: () => void,
): Promise<() => Promise<void>> {
  try {
    return await acquireStateLock(
      {
        s3State,
        timing: deps.lockTiming,
        onLost,
        isWorkerAlive: (workerId) => deps.store.leases.isAlive(workerId),
        isJobOver: async (jobId) => {
          const job = await deps.store.jobs.get(jobId);
          return !job || FINISHED_JOB_STATUSES.includes(job.status);
        },
        log,
      },
      data.stackId,
      { workerId: deps.workerId, jobId: data.jobId, operation: LOCK_OPERATION[data.action] },
    );
  } catch (error) {
    if (error instanceof LockHeldError)
      throw error.ours
        ? JobFailure.waiting(`${error.message}; waiting for it`)
        : JobFailure.retryable('lock-held', error.message);
    throw stateBackendUnavailable(`could not lock workspace ${data.stackId}`, error);
  }
}
