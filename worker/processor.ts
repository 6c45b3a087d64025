// What a worker does with one job: wait for the resource's earlier jobs, run
// Terraform in the resource's workspace, and record the outcome.
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DelayedError, type Job, UnrecoverableError, WaitingError } from 'bullmq';
import type { Logger } from '../core/logger.ts';
import type { JobQueue } from '../core/queue.ts';
import { endJob, failedStatus, requestDeletion } from '../core/commands.ts';
import { ExpireJobData, FINISHED_JOB_STATUSES, JobData, type JobError, type JobResult, type Outputs } from '../core/schemas.ts';
import type { Store } from '../core/store/index.ts';
import { JobLog } from './job-log.ts';
import { isTransient, RunTracker } from './run-tracker.ts';
import type { S3State, WorkspaceState } from './s3-state.ts';
import { acquireStateLock, LockHeldError } from './state-lock.ts';
import type { RunResult, Terraform } from './terraform.ts';

// A job that is not at the head of its resource's queue checks again after
// this long; normally it is promoted as soon as the job ahead finishes.
const WAIT_FOR_TURN_MS = 5_000;

const ERRORED_STATE = 'errored.tfstate';

// The abort reason of a job cancelled on request (any other reason, such as
// shutdown, hands the job back to the queue).
export const CANCEL_REASON = 'cancel';

export type ProcessorDeps = {
  store: Store;
  queue: JobQueue;
  jobs: { attempts: number; backoffMs: number };
  terraform: Terraform;
  // Direct state access for an S3 backend; undefined means Terraform commands.
  s3State: S3State | undefined;
  logger: Logger;
  varsDir: string;
  // Where state Terraform could not save (errored.tfstate) waits to be pushed;
  // shared by the worker processes of a host.
  erroredStateDir: string;
  workerId: string;
};

// A failure with what the user should read about it.
class JobFailure extends Error {
  override name = 'JobFailure';
  readonly detail: JobError;
  readonly interrupted: boolean;

  constructor(detail: JobError, interrupted = false) {
    super(detail.message);
    this.detail = detail;
    this.interrupted = interrupted;
  }
}

export function createProcessor(deps: ProcessorDeps) {
  const { store, queue, terraform, s3State, logger } = deps;

  return async function processJob(job: Job<unknown>, token?: string, signal?: AbortSignal): Promise<void> {
    if (job.name === 'expire') return expire(job);
    const parsed = JobData.safeParse(job.data);
    if (!parsed.success) {
      logger.error({ bullJobId: job.id, issues: parsed.error.issues }, 'poisoned job data; failing without retry');
      throw new UnrecoverableError(`invalid job data: ${parsed.error.message}`);
    }
    const data = parsed.data;
    const log = logger.child({ jobId: data.jobId, resourceId: data.resourceId, action: data.action });

    if (!(await waitForTurn(job, data, token))) return;

    const start = await store.jobs.markRunning(data.resourceId, data.jobId);
    if (start.outcome === 'finished') {
      log.info('job already finished (cancelled before it started); dropping it');
      return;
    }
    if (start.outcome === 'cancel-requested') {
      log.info('job cancelled while it waited for a retry');
      await finishCancelled(data, 'cancelled on request before its next attempt');
      return;
    }
    await store.channels.publishJobEvent({ resourceId: data.resourceId, jobId: data.jobId, status: 'running' });
    const { attempt } = start;
    log.info({ attempt }, 'job started');
    const jobLog = new JobLog(store, data.jobId);
    jobLog.write(`--- ${data.action} ${data.resourceId}, attempt ${attempt}, worker ${deps.workerId}, ${new Date().toISOString()} ---`);

    const started = performance.now();
    const varFile = path.join(deps.varsDir, `${data.jobId}.tfvars.json`);
    let releaseLock: (() => Promise<void>) | undefined;
    // The lock goes before the outcome is recorded, so a job that reads as
    // finished never still holds it.
    const unlock = async () => {
      const release = releaseLock;
      releaseLock = undefined;
      await release?.().catch((error: unknown) => log.error({ err: error }, 'could not release the state lock'));
    };
    try {
      await writeFile(varFile, JSON.stringify({ resource_id: data.resourceId, ...data.inputs }), { mode: 0o600 });
      if (s3State?.canLock) releaseLock = await lockWorkspace(s3State, data, (text) => jobLog.write(text));
      // We hold the lock ourselves (see state-lock.ts); Terraform must not take it again.
      const lockArgs = releaseLock ? ['-lock=false'] : [];
      const tracker = new RunTracker();
      const run = async (args: string[], workspace: string, json: boolean): Promise<RunResult> => {
        const result = await terraform.run(args, {
          workspace,
          ...(signal ? { signal } : {}),
          onLine: (line) => {
            if (!json) return jobLog.write(line);
            const { text, progressed } = tracker.handle(line);
            if (text) jobLog.write(text);
            if (progressed) jobLog.progress(tracker.progress);
          },
        });
        // With -json, stderr holds only what escaped the UI: plugin crashes, panics.
        if (result.stderr) jobLog.write(result.stderr);
        if (result.interrupted) {
          throw new JobFailure({ message: `terraform ${args[0]} was interrupted`, retryable: true, diagnostics: [] }, true);
        }
        return result;
      };

      await pushErroredState(data, run, lockArgs, (text) => jobLog.write(text));
      if (data.action === 'create') {
        const found = data.retry ? undefined : await ensureFreshWorkspace(data, run, store, s3State, (text) => jobLog.write(text));
        // Terraform locks a workspace it creates even with -lock=false, so under our lock we create it.
        const lineage = releaseLock && s3State ? await ensureWorkspaceExists(s3State, data.resourceId, found) : undefined;
        const result = await run(['apply', '-auto-approve', '-input=false', '-json', ...lockArgs, `-var-file=${varFile}`], data.resourceId, true);
        if (result.exitCode !== 0) throw failure('apply', result, tracker, await keepErroredState(data, lineage, (text) => jobLog.write(text)));
        const outputs: Outputs = tracker.outputs ?? {};
        await unlock();
        await jobLog.flush();
        await succeed(data, outputs, { outputs, changes: tracker.changes ?? { add: 0, change: 0, remove: 0 }, duration_ms: elapsed(started) });
      } else {
        // Under our lock an absent workspace has nothing to destroy, and Terraform would lock to create it.
        const state = releaseLock && s3State ? await s3State.inspect(data.resourceId) : undefined;
        if (state?.exists === false) {
          jobLog.write(`No state for workspace ${data.resourceId} in S3; nothing to destroy.`);
        } else {
          const result = await run(['destroy', '-auto-approve', '-input=false', '-json', ...lockArgs, `-var-file=${varFile}`], data.resourceId, true);
          if (result.exitCode !== 0) throw failure('destroy', result, tracker, await keepErroredState(data, state?.exists ? state.lineage : undefined, (text) => jobLog.write(text)));
        }
        await deleteWorkspace(data, run, tracker, s3State, (text) => jobLog.write(text));
        await unlock();
        await jobLog.flush();
        await succeed(data, {}, { outputs: {}, changes: tracker.changes ?? { add: 0, change: 0, remove: 0 }, duration_ms: elapsed(started) });
      }
      log.info({ durationMs: elapsed(started) }, 'job succeeded');
    } catch (error) {
      await unlock();
      const detail =
        error instanceof JobFailure
          ? error.detail
          : { message: error instanceof Error ? error.message : String(error), retryable: true, diagnostics: [] };
      jobLog.write(`--- ${detail.message} ---`);
      await jobLog.flush().catch(() => undefined);

      if (error instanceof JobFailure && error.interrupted && signal?.reason === CANCEL_REASON) {
        log.warn('job cancelled on request');
        await finishCancelled(data, `cancelled on request; ${detail.message}, after saving state`);
        throw new UnrecoverableError('cancelled');
      }
      if (error instanceof JobFailure && error.interrupted) {
        // Shutdown or lost lock: hand the job back without spending an attempt.
        log.warn('job interrupted; returning it to the queue');
        await store.jobs.requeue(data.resourceId, data.jobId, undefined);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const attemptsLeft = job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      if (detail.retryable && attemptsLeft) {
        log.warn({ err: detail.message }, 'job failed; will retry');
        await store.jobs.requeue(data.resourceId, data.jobId, detail);
        await store.channels.publishJobEvent({ resourceId: data.resourceId, jobId: data.jobId, status: 'queued' });
        throw new Error(detail.message);
      }
      log.error({ err: detail.message }, 'job failed');
      await endJob({ store, queue }, data, { jobStatus: 'failed', resourceStatus: failedStatus(data.action), error: detail });
      throw new UnrecoverableError(detail.message);
    } finally {
      await rm(varFile, { force: true });
    }
  };

  // When Terraform cannot save state to the backend it writes it to
  // errored.tfstate in its working directory. That state is the only record of
  // what the run made, so it is kept (if its lineage is this workspace's) and
  // pushed before the next run for the stack. `lineage` is the workspace's,
  // read before the run (the backend may be unreachable now).
  async function keepErroredState(data: JobData, lineage: string | undefined, write: (text: string) => void): Promise<boolean> {
    const file = path.join(terraform.settings.cwd, ERRORED_STATE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return false;
    }
    if (!lineage || (JSON.parse(text) as { lineage?: string }).lineage !== lineage) {
      logger.warn({ resourceId: data.resourceId }, 'an errored.tfstate that is not this workspace\'s was left alone');
      return false;
    }
    await mkdir(deps.erroredStateDir, { recursive: true, mode: 0o700 });
    await writeFile(erroredStatePath(data.resourceId), text, { mode: 0o600 });
    await rm(file, { force: true });
    write(`Terraform could not save the state to the backend; it is kept on worker ${deps.workerId} and will be pushed before the next run for this stack.`);
    return true;
  }

  async function pushErroredState(data: JobData, run: Run, lockArgs: string[], write: (text: string) => void): Promise<void> {
    const file = erroredStatePath(data.resourceId);
    try {
      await access(file);
    } catch {
      return;
    }
    const pushed = await run(['state', 'push', ...lockArgs, file], data.resourceId, false);
    if (pushed.exitCode !== 0) {
      throw new JobFailure({ message: `could not push the state an earlier run failed to save: ${lastLine(pushed.stderr)}`, retryable: true, diagnostics: [] });
    }
    await rm(file, { force: true });
    write('Pushed the state an earlier run could not save to the backend.');
  }

  function erroredStatePath(resourceId: string): string {
    return path.join(deps.erroredStateDir, `${resourceId}.tfstate`);
  }

  async function lockWorkspace(state: S3State, data: JobData, write: (text: string) => void): Promise<() => Promise<void>> {
    try {
      return await acquireStateLock(
        {
          s3State: state,
          isWorkerAlive: (workerId) => store.leases.isAlive(workerId),
          isJobOver: async (jobId) => {
            const job = await store.jobs.get(jobId);
            return !job || FINISHED_JOB_STATUSES.includes(job.status);
          },
          log: write,
        },
        data.resourceId,
        { workerId: deps.workerId, jobId: data.jobId, operation: data.action === 'create' ? 'apply' : 'destroy' },
      );
    } catch (error) {
      const message = error instanceof LockHeldError ? error.message : `could not reach the state backend to lock workspace ${data.resourceId}: ${errorText(error)}`;
      throw new JobFailure({ message, retryable: true, diagnostics: [] });
    }
  }

  // Only the oldest unfinished job of a resource may run. Returns false when
  // the job should be dropped because nothing waits for it any more.
  async function waitForTurn(job: Job<unknown>, data: JobData, token: string | undefined): Promise<boolean> {
    const head = await store.jobs.head(data.resourceId);
    if (head === data.jobId) return true;
    if (!(await store.jobs.isPending(data.resourceId, data.jobId))) {
      logger.warn({ jobId: data.jobId }, 'job is no longer pending for its resource; dropping it');
      return false;
    }
    await job.moveToDelayed(Date.now() + WAIT_FOR_TURN_MS, token);
    // The job ahead may have finished between the check and the move.
    if ((await store.jobs.head(data.resourceId)) === data.jobId) await job.promote().catch(() => undefined);
    throw new DelayedError();
  }

  async function succeed(data: JobData, outputs: Outputs, result: JobResult): Promise<void> {
    await endJob({ store, queue }, data, { jobStatus: 'succeeded', resourceStatus: data.action === 'create' ? 'ready' : 'deleted', outputs, result });
  }

  // The resource is left failed (create) or delete_failed (delete): what
  // Terraform made before it stopped is in the state, and a DELETE destroys it.
  async function finishCancelled(data: JobData, message: string): Promise<void> {
    await endJob({ store, queue }, data, {
      jobStatus: 'cancelled',
      resourceStatus: failedStatus(data.action),
      error: { message, retryable: true, diagnostics: [] },
    });
  }

  // A stack's ttl ran out: request its delete as a user's DELETE would.
  async function expire(job: Job<unknown>): Promise<void> {
    const parsed = ExpireJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid expire job data: ${parsed.error.message}`);
    const { resourceId } = parsed.data;
    const request = await requestDeletion({ store, queue, logger, jobs: deps.jobs }, resourceId);
    logger.info({ resourceId, outcome: request.outcome }, 'ttl ran out; delete requested');
  }
}

type Run = (args: string[], workspace: string, json: boolean) => Promise<RunResult>;

// The original project's rule: a create never adopts infrastructure it did not
// make. Checked once per job; a retry after a crash finds its own resources.
// Returns what it found in S3, when it looked there.
async function ensureFreshWorkspace(
  data: JobData,
  run: Run,
  store: Store,
  s3State: S3State | undefined,
  log: (text: string) => void,
): Promise<WorkspaceState | undefined> {
  if (await store.jobs.isWorkspaceChecked(data.jobId)) return undefined;
  const state = await s3State?.inspect(data.resourceId);
  if (state) {
    log(state.exists ? `Workspace state found in S3 with ${state.resources} resource(s).` : 'No workspace state in S3 yet; apply creates it.');
    if (state.exists && state.resources > 0) throw adoptionRefused(data.resourceId, state.resources);
  } else {
    const created = await run(['workspace', 'new', '-no-color', data.resourceId], data.resourceId, false);
    if (created.exitCode !== 0) {
      if (!/already exists/.test(created.stderr)) {
        throw new JobFailure({
          message: `terraform workspace new failed: ${lastLine(created.stderr)}`,
          retryable: isTransient([], created.stderr),
          diagnostics: [],
        });
      }
      const listed = await run(['state', 'list'], data.resourceId, false);
      if (listed.exitCode !== 0) {
        throw new JobFailure({
          message: `workspace ${data.resourceId} already exists and its state could not be read: ${lastLine(listed.stderr)}`,
          retryable: isTransient([], listed.stderr),
          diagnostics: [],
        });
      }
      const addresses = listed.stdout.split('\n').filter(Boolean);
      if (addresses.length > 0) throw adoptionRefused(data.resourceId, addresses.length);
    }
  }
  await store.jobs.markWorkspaceChecked(data.jobId);
  return state;
}

// Returns the workspace state's lineage.
async function ensureWorkspaceExists(s3State: S3State, workspace: string, known: WorkspaceState | undefined): Promise<string | undefined> {
  const state = known ?? (await s3State.inspect(workspace));
  if (!state) throw new JobFailure({ message: `the state of workspace ${workspace} could not be read from S3`, retryable: true, diagnostics: [] });
  if (state.exists) return state.lineage;
  try {
    return await s3State.createEmptyState(workspace);
  } catch (error) {
    throw new JobFailure({ message: `could not create workspace ${workspace} in S3: ${errorText(error)}`, retryable: true, diagnostics: [] });
  }
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message || error.name;
}

function adoptionRefused(workspace: string, resources: number): JobFailure {
  return new JobFailure({
    message: `workspace ${workspace} already exists and tracks ${resources} resource(s); refusing to adopt infrastructure this resource did not create`,
    retryable: false,
    diagnostics: [],
  });
}

// After a successful destroy: remove the now empty workspace.
async function deleteWorkspace(
  data: JobData,
  run: Run,
  tracker: RunTracker,
  s3State: S3State | undefined,
  log: (text: string) => void,
): Promise<void> {
  const removed = await s3State?.remove(data.resourceId);
  if (removed?.exists && removed.resources > 0) {
    throw new JobFailure({
      message: `workspace ${data.resourceId} still tracks ${removed.resources} resource(s) after destroy; it was kept`,
      retryable: false,
      diagnostics: [],
    });
  }
  if (removed) {
    log(removed.exists ? `Workspace "${data.resourceId}" deleted from S3.` : `Workspace "${data.resourceId}" had no state in S3.`);
    return;
  }
  // `workspace delete` refuses to delete the selected workspace, hence TF_WORKSPACE=default.
  const result = await run(['workspace', 'delete', '-no-color', data.resourceId], 'default', false);
  if (result.exitCode !== 0 && !/doesn't exist/.test(result.stderr)) throw failure('workspace delete', result, tracker);
}

function failure(command: string, result: RunResult, tracker: RunTracker, stateKept = false): JobFailure {
  const errors = tracker.errors;
  if (stateKept) {
    return new JobFailure({
      message: `terraform ${command} could not save the state to the backend; it is kept and will be pushed on the next attempt`,
      retryable: true,
      diagnostics: tracker.diagnostics,
    });
  }
  if (result.timedOut) {
    return new JobFailure({ message: `terraform ${command} timed out and was stopped`, retryable: false, diagnostics: errors });
  }
  const first = errors[0];
  const reason = first ? first.summary : lastLine(result.stderr) || `exit code ${result.exitCode}`;
  return new JobFailure({
    message: `terraform ${command} failed: ${reason}`,
    retryable: isTransient(errors, result.stderr),
    diagnostics: tracker.diagnostics,
  });
}

function lastLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '';
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
