// The BullMQ side of a job: parse its data, wait for the stack's earlier
// jobs, start the attempt, run it (job-run.ts), record how it ended
// (outcome.ts), and tell BullMQ what to do next.
import { DelayedError, type Job, UnrecoverableError, WaitingError } from 'bullmq';
import { endJob, requestDeletion } from '../../core/lifecycle/index.ts';
import type { Logger } from '../../core/logger.ts';
import type { JobQueue } from '../../core/queue.ts';
import { ExpireJobData, ForgetPlanJobData, JobData } from '../../core/schemas/index.ts';
import type { Store } from '../../core/store/index.ts';
import type { Catalogue } from '../../core/templates/index.ts';
import { errorText, JobFailure } from '../job-failure.ts';
import { JobLog } from './job-log.ts';
import { type JobRunDeps, runJob } from './job-run.ts';
import { classifyFailure, recordOutcome, type Outcome } from './outcome.ts';
import { runtimeFor, type TemplateRuntime } from '../terraform/templates.ts';
import type { ActionSuccess } from './actions/index.ts';

// A job that is not at the head of its stack's queue checks again after
// this long; normally it is promoted as soon as the job ahead finishes.
const WAIT_FOR_TURN_MS = 5_000;
// A job whose project has no free slot (max_running_jobs) asks again after this long.
const SLOT_WAIT_MS = 1_000;

// The abort reason of a job cancelled on request (any other reason, such as
// shutdown, hands the job back to the queue).
export const CANCEL_REASON = 'cancel';
// The abort reason of the jobs of a worker that lost its lease (cut off from
// Redis): another worker may run them by now, so they report nothing.
export const FENCED_REASON = 'fenced';

export type ProcessorDeps = JobRunDeps & {
  queue: JobQueue;
  catalogue: Catalogue;
  templates: ReadonlyMap<string, TemplateRuntime>;
  // A job validated against a template version this worker does not have is
  // handed back for a worker that has it (a rolling deploy), for this long
  // after it was queued; then it fails, naming both versions.
  versionWaitMs: number;
  jobs: { attempts: number; backoffMs: number };
  // How long a job waits before it looks again at a state lock that an
  // attempt of a tfcompute job still holds.
  lockWaitMs: number;
};

export type JobProcessor = {
  // A job of the main queue: its data is parsed first.
  processJob(job: Job<unknown>, token?: string, signal?: AbortSignal): Promise<void>;
  // A job whose data the caller made (a drift check), run by its BullMQ job.
  runPrepared(job: Job<unknown>, data: JobData, token?: string, signal?: AbortSignal): Promise<void>;
};

export function createProcessor(deps: ProcessorDeps): JobProcessor {
  const { store, queue, logger } = deps;

  async function processJob(job: Job<unknown>, token?: string, signal?: AbortSignal): Promise<void> {
    if (job.name === 'expire') return expire(job);
    if (job.name === 'forget-plan') return forgetPlan(job);
    return run(job, parseJobData(job, logger), token, signal);
  }

  async function run(job: Job<unknown>, data: JobData, token?: string, signal?: AbortSignal): Promise<void> {
    const log = logger.child({ jobId: data.jobId, stackId: data.stackId, action: data.action });
    if (!(await waitForTurn(store, job, data, token, log))) return;
    const resolved = runtimeFor(deps.templates, data.template);
    if ('mismatch' in resolved) return await handBackOrFail(job, token, data, resolved.mismatch, log);
    const jobLog = await startAttempt(job, token, data, log);
    if (!jobLog) return;
    const started = performance.now();
    let outcome: Outcome;
    try {
      const success = await runJob(deps, resolved.runtime, data, jobLog, signal);
      if (signal?.reason === FENCED_REASON) return await handBackFenced(job, token, jobLog, log);
      return await recordSuccess(data, success, Math.round(performance.now() - started), jobLog, log);
    } catch (error) {
      if (signal?.reason === FENCED_REASON) return await handBackFenced(job, token, jobLog, log);
      outcome = classifyFailure(error, {
        cancelRequested: signal?.reason === CANCEL_REASON,
        attemptsLeft: job.attemptsMade + 1 < (job.opts.attempts ?? 1),
      });
      logCause(log, error, outcome);
      jobLog.write(`--- ${outcome.detail.message} ---`);
      await jobLog.flush().catch(() => undefined);
    }
    await recordOutcome(deps, data, outcome);
    return await tellBullMQ(job, token, outcome, deps.lockWaitMs, log);
  }

  // A job validated against a template version this worker does not have:
  // handed back for a worker that has it, until `versionWaitMs` has passed.
  async function handBackOrFail(
    job: Job<unknown>,
    token: string | undefined,
    data: JobData,
    mismatch: string,
    log: Logger,
  ): Promise<never> {
    if (Date.now() - job.timestamp < deps.versionWaitMs) {
      log.warn({ reason: mismatch }, 'handing the job back for a worker with its template version');
      await job.moveToDelayed(Date.now() + WAIT_FOR_TURN_MS, token);
      throw new DelayedError();
    }
    const message =
      `not run: ${mismatch}; no worker with that version took it within ` +
      `${Math.round(deps.versionWaitMs / 1000)} s. Nothing was changed; retry (or delete) to run it with ` +
      'the template as served now';
    await recordOutcome(deps, data, {
      kind: 'failed',
      detail: { code: 'template-version-unavailable', message, retryable: false, diagnostics: [] },
    });
    log.error({ reason: mismatch }, 'job failed: template version');
    throw new UnrecoverableError(message);
  }

  // Marks the attempt started: its log, or undefined when there is nothing to run.
  async function startAttempt(
    job: Job<unknown>,
    token: string | undefined,
    data: JobData,
    log: Logger,
  ): Promise<JobLog | undefined> {
    const start = await store.jobs.markRunning(data.stackId, data.jobId);
    if (start.outcome === 'finished') {
      log.info('job already finished (cancelled before it started); dropping it');
      return undefined;
    }
    if (start.outcome === 'wait') {
      // Its project runs as many jobs as its quota allows; its place in the
      // project's queue is kept, and it asks again soon.
      await job.moveToDelayed(Date.now() + SLOT_WAIT_MS, token);
      throw new DelayedError();
    }
    if (start.outcome === 'cancel-requested') {
      log.info('job cancelled while it waited for a retry');
      await recordOutcome(deps, data, {
        kind: 'cancelled',
        detail: {
          code: 'cancelled',
          message: 'cancelled on request before its next attempt',
          retryable: true,
          diagnostics: [],
        },
      });
      return undefined;
    }
    await store.channels.publishJobEvent({ stackId: data.stackId, jobId: data.jobId, status: 'running' });
    log.info({ attempt: start.attempt }, 'job started');
    const jobLog = new JobLog(store, data.jobId);
    jobLog.write(
      `--- ${data.action} ${data.stackId}, attempt ${start.attempt}, worker ${deps.workerId}, ` +
        `${new Date().toISOString()} ---`,
    );
    return jobLog;
  }

  async function recordSuccess(
    data: JobData,
    success: ActionSuccess,
    durationMs: number,
    jobLog: JobLog,
    log: Logger,
  ): Promise<void> {
    await jobLog.flush();
    if (success.parked) {
      // The job waits for approval or an override; its next run is queued by it.
      await store.channels.publishJobEvent({ stackId: data.stackId, jobId: data.jobId, status: success.parked });
      log.info({ durationMs, status: success.parked }, 'job planned; waiting');
      return;
    }
    await endJob({ store, queue }, data, {
      jobStatus: 'succeeded',
      stackStatus: success.stackStatus,
      ...(success.outputs ? { outputs: success.outputs } : {}),
      ...(success.plan ? { plan: success.plan } : {}),
      ...(success.drift ? { drift: success.drift } : {}),
      result: { ...success.result, duration_ms: durationMs },
    });
    log.info({ durationMs }, 'job succeeded');
  }

  // The worker lost its lease while the job ran (see ../lease.ts): another
  // worker may be running it by now, so this attempt reports nothing, no
  // outcome and no more log, and hands the job back only if BullMQ still
  // counts it as ours (the lock token says so).
  async function handBackFenced(
    job: Job<unknown>,
    token: string | undefined,
    jobLog: JobLog,
    log: Logger,
  ): Promise<never> {
    jobLog.discard();
    log.warn('job fenced; its result is not reported');
    await job
      .moveToWait(token)
      .catch((error: unknown) =>
        log.info({ err: errorText(error) }, 'fenced job not handed back: another worker has it'),
      );
    throw new WaitingError();
  }

  // A stack's ttl ran out: request its delete as a user's DELETE would.
  async function expire(job: Job<unknown>): Promise<void> {
    const parsed = ExpireJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid expire job data: ${parsed.error.message}`);
    const { stackId } = parsed.data;
    const request = await requestDeletion(
      { store, queue, logger, jobs: deps.jobs, catalogue: deps.catalogue, secrets: deps.secrets },
      stackId,
    );
    logger.info({ stackId, outcome: request.outcome }, 'ttl ran out; delete requested');
  }

  // An update's plan was discarded: its saved copy goes.
  async function forgetPlan(job: Job<unknown>): Promise<void> {
    const parsed = ForgetPlanJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid forget-plan job data: ${parsed.error.message}`);
    const { stackId, jobId, template } = parsed.data;
    await deps.templates.get(template)?.s3State?.deletePlan(stackId, jobId);
    logger.info({ stackId, jobId }, 'saved plan of a discarded update removed');
  }

  return { processJob, runPrepared: run };
}

// What BullMQ does with the job after a failed attempt was recorded: each
// way out is the error (or move) BullMQ reads.
async function tellBullMQ(
  job: Job<unknown>,
  token: string | undefined,
  outcome: Outcome,
  lockWaitMs: number,
  log: Logger,
): Promise<never> {
  switch (outcome.kind) {
    case 'cancelled':
      log.warn('job cancelled on request');
      throw new UnrecoverableError('cancelled');
    case 'interrupted':
      log.warn('job interrupted; returning it to the queue');
      await job.moveToWait(token);
      throw new WaitingError();
    case 'wait':
      log.info({ reason: outcome.detail.message }, 'job waits for the state lock');
      await job.moveToDelayed(Date.now() + lockWaitMs, token);
      throw new DelayedError();
    case 'retry':
      log.warn({ err: outcome.detail.message }, 'job failed; will retry');
      throw new Error(outcome.detail.message);
    case 'failed':
      log.error({ err: outcome.detail.message }, 'job failed');
      throw new UnrecoverableError(outcome.detail.message);
  }
}

// What a failure came from when it is not ours to show (an SDK's error, the
// file system's: endpoints, local paths, request ids), for the operator:
// the job's `error` says only what happened and what to do.
function logCause(log: Logger, error: unknown, outcome: Outcome): void {
  const cause = error instanceof JobFailure ? error.cause : error;
  if (cause !== undefined) log.warn({ err: cause, code: outcome.detail.code }, 'the job failed on this error');
}

// Anything could have written to the queue: a job whose data does not parse
// is a poisoned message, failed without retry.
function parseJobData(job: Job<unknown>, logger: Logger): JobData {
  const parsed = JobData.safeParse(job.data);
  if (parsed.success) return parsed.data;
  logger.error({ bullJobId: job.id, issues: parsed.error.issues }, 'poisoned job data; failing without retry');
  throw new UnrecoverableError(`invalid job data: ${parsed.error.message}`);
}

// Only the oldest unfinished job of a stack may run. Returns false when
// the job should be dropped because nothing waits for it any more.
async function waitForTurn(
  store: Store,
  job: Job<unknown>,
  data: JobData,
  token: string | undefined,
  log: Logger,
): Promise<boolean> {
  const head = await store.jobs.head(data.stackId);
  if (head === data.jobId) return true;
  if (!(await store.jobs.isPending(data.stackId, data.jobId))) {
    log.warn('job is no longer pending for its stack; dropping it');
    return false;
  }
  await job.moveToDelayed(Date.now() + WAIT_FOR_TURN_MS, token);
  // The job ahead may have finished between the check and the move.
  if ((await store.jobs.head(data.stackId)) === data.jobId) await job.promote().catch(() => undefined);
  throw new DelayedError();
}
