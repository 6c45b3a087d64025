// Scheduled drift checks: with DRIFT_CHECK_INTERVAL set, every ready stack
// gets a plan-only job that often. They have a queue and worker slots of
// their own (DRIFT_CHECK_CONCURRENCY per worker), so user jobs never wait
// for a slot behind them; and a check starts only on an idle stack and joins
// its queue of jobs then, so a user's job waits for at most the one check
// running. A check is a plan job like a speculative plan: it holds the state
// lock only while Terraform plans, and its result becomes the stack's drift.
import { type Job, type Queue, UnrecoverableError } from 'bullmq';
import { newJobId } from '../../core/ids.ts';
import { createDriftQueue, DRIFT_QUEUE_NAME } from '../../core/queue.ts';
import type { Logger } from '../../core/logger.ts';
import { DriftCheckJobData, toQueue } from '../../core/schemas/index.ts';
import type { Store } from '../../core/store/index.ts';
import type { Catalogue } from '../../core/templates/index.ts';
import { createWorker, onStalledOut, type QueueSite } from '../queues.ts';
import type { JobProcessor } from './processor.ts';

const SWEEP_SCHEDULER_ID = 'drift-sweep';
// Stacks read per round trip while looking for those due.
const SWEEP_BATCH = 500;

export type DriftChecks = {
  // Interrupts a running check (a user's cancel); false when none has that id.
  cancel(jobId: string, reason: string): boolean;
  cancelAll(reason: string): void;
  stop(): Promise<void>;
};

export type DriftCheckDeps = {
  site: QueueSite;
  store: Store;
  catalogue: Catalogue;
  processor: JobProcessor;
  logger: Logger;
  workerId: string;
  // A check whose workers kept dying: BullMQ gives up on it.
  onStalledOut(jobId: string, stackId: string): void;
  settings: { intervalMs: number | undefined; concurrency: number };
};

// How often the sweep looks for stacks due: a quarter of the interval, so a
// stack is checked at most a quarter of an interval late, within bounds.
export function sweepEveryMs(intervalMs: number): number {
  return Math.min(60_000, Math.max(250, Math.floor(intervalMs / 4)));
}

export async function startDriftChecks(deps: DriftCheckDeps): Promise<DriftChecks> {
  const { logger, settings } = deps;
  const queue = createDriftQueue(deps.site.connection, deps.site.prefix);
  queue.on('error', (error) => logger.warn({ err: error.message }, 'drift queue error'));
  const intervalMs = settings.intervalMs;
  if (intervalMs === undefined) {
    // Every worker of an installation has the same settings: off is off for all.
    await queue.removeJobScheduler(SWEEP_SCHEDULER_ID);
    await queue.close();
    return { cancel: () => false, cancelAll: () => undefined, stop: async () => undefined };
  }
  await queue.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: sweepEveryMs(intervalMs) },
    { name: 'sweep', opts: { removeOnComplete: true, removeOnFail: true } },
  );

  const worker = createWorker(
    DRIFT_QUEUE_NAME,
    async (job: Job<unknown>, token?: string, signal?: AbortSignal) => {
      if (job.name === 'sweep') return sweep(deps, queue, intervalMs);
      return check(deps, job, token, signal);
    },
    deps.site,
    { concurrency: settings.concurrency, name: `${deps.workerId}-drift` },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'drift check worker error'));
  onStalledOut(worker, (job) => {
    const parsed = DriftCheckJobData.safeParse(job.data);
    if (job.id && parsed.success) deps.onStalledOut(job.id, parsed.data.stackId);
  });
  await worker.waitUntilReady();
  logger.info({ intervalMs, concurrency: settings.concurrency }, 'drift checks scheduled');
  return {
    cancel: (jobId, reason) => worker.cancelJob(jobId, reason),
    cancelAll: (reason) => worker.cancelAllJobs(reason),
    async stop() {
      await worker.close();
      await queue.close();
    },
  };
}

// Queues a check for every ready stack whose last result is older than the
// interval (or that has none) and that no job is busy with. A stack whose
// check is still queued is not queued twice (BullMQ's deduplication).
async function sweep(
  deps: Pick<DriftCheckDeps, 'store' | 'logger'>,
  queue: Queue,
  intervalMs: number,
): Promise<number> {
  const dueBefore = new Date(Date.now() - intervalMs);
  let queued = 0;
  for await (const ids of deps.store.stacks.readyBatches(SWEEP_BATCH)) {
    const due = await deps.store.stacks.driftCheckDue(ids, dueBefore);
    for (const stackId of due) {
      await queue.add('check', toQueue({ stackId } satisfies DriftCheckJobData), {
        jobId: newJobId(),
        deduplication: { id: `check:${stackId}` },
        attempts: 1,
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600 },
      });
      queued++;
    }
  }
  if (queued > 0) deps.logger.debug({ queued }, 'drift checks queued');
  return queued;
}

// Runs one check, if the stack is idle; a busy or changed stack is left for
// the next sweep.
async function check(
  deps: DriftCheckDeps,
  job: Job<unknown>,
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const parsed = DriftCheckJobData.safeParse(job.data);
  if (!parsed.success || !job.id)
    throw new UnrecoverableError(`invalid drift check data: ${parsed.error?.message ?? 'no job id'}`);
  const { stackId } = parsed.data;
  const jobId = job.id;
  const log = deps.logger.child({ jobId, stackId, action: 'plan' });
  const stack = await deps.store.stacks.get(stackId);
  const template = stack ? deps.catalogue.get(stack.template.name) : undefined;
  if (!stack || !template) {
    log.debug('drift check skipped: no such stack, or its template is not served');
    return;
  }
  const request = await deps.store.stacks.requestPlan({
    id: stackId,
    jobId,
    maxAttempts: 1,
    templateVersion: template.version,
    onlyIfIdle: true,
  });
  if (request.outcome === 'exists' && request.headId !== jobId) return;
  if (request.outcome !== 'created' && request.outcome !== 'exists') {
    log.debug({ outcome: request.outcome }, 'drift check skipped: the stack is busy or not ready');
    return;
  }
  const inputs = (await deps.store.stacks.setInputs(stackId)) ?? {};
  const data = {
    jobId,
    stackId,
    action: 'plan' as const,
    template: { name: template.name, version: template.version },
    inputs,
    retry: false,
    autoApply: false,
    approved: false,
  };
  await deps.processor.runPrepared(job, data, token, signal);
}
