// A worker process's lifecycle: initialise Terraform once, consume jobs, and
// on stop hand running jobs back to the queue after Terraform has stopped cleanly.
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import { nanoid } from 'nanoid';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { createQueue, QUEUE_NAME, RUN_RETRY_DELAY_MS } from '../core/queue.ts';
import { closeRedis, connectRedis, duplicateConnection, type RedisConnection } from '../core/redis.ts';
import { JobData } from '../core/schemas/index.ts';
import { SecretBox } from '../core/secret-box.ts';
import { Store } from '../core/store/index.ts';
import { loadCatalogue } from '../core/templates/index.ts';
import { within } from '../core/within.ts';
import { JobFailure } from './job-failure.ts';
import { recordOutcome } from './jobs/outcome.ts';
import { startDriftChecks } from './jobs/drift-checks.ts';
import { startEvents } from './webhooks/webhooks.ts';
import { startLease } from './lease.ts';
import { CANCEL_REASON, createProcessor, FENCED_REASON } from './jobs/processor.ts';
import { stateLockTiming } from './terraform/state-lock.ts';
import { SWEEP_EVERY_MS, sweepUnqueuedCreates } from './jobs/sweeper.ts';
import { prepareTemplates } from './terraform/templates.ts';

const STALLED_RUNS_ALLOWED = 2;

export type RunningWorker = {
  workerId: string;
  stop(): Promise<void>;
};

export async function startWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  const workerId = `${hostname()}-${process.pid}-${nanoid(6)}`;
  const dataDir = path.join(config.worker.workDir, `worker-${workerId.replace(/[^A-Za-z0-9_-]/g, '_')}`);
  const jobsDir = path.join(dataDir, 'jobs');
  await mkdir(jobsDir, { recursive: true, mode: 0o700 });

  const catalogue = await loadCatalogue(config.templates, { canEncrypt: config.encryptionKey !== undefined });
  const templates = await prepareTemplates(config, catalogue, dataDir, workerId, logger);
  const secrets = config.encryptionKey ? new SecretBox(config.encryptionKey) : undefined;

  const connection = connectRedis(config.redis, 'worker', `tfcompute-worker:${workerId}`);
  const store = new Store(connection, config.redisPrefix, config.worker.jobRetentionSeconds, { waitReplicas: config.redisWaitReplicas });
  const queue = createQueue(connection, config.redisPrefix);
  // Unheard, BullMQ prints its errors (each reconnect during a failover) to stderr.
  queue.on('error', (error) => logger.warn({ err: error.message }, 'queue error'));
  const jobs = { attempts: config.worker.attempts, backoffMs: config.worker.backoffMs };
  const leaseMs = config.worker.leaseMs;
  const lockTiming = stateLockTiming(leaseMs, config.worker.shutdownGraceMs);
  const processor = createProcessor({
    store,
    queue,
    jobs,
    templates,
    catalogue,
    secrets,
    logger,
    jobsDir,
    workerId,
    versionWaitMs: config.worker.versionWaitMs,
    lockTiming,
    lockWaitMs: Math.max(250, lockTiming.heartbeatMs),
    policyTimeoutMs: config.worker.policyTimeoutMs,
  });
  // BullMQ's job locks last as long as the lease, so a dead worker's jobs
  // are re-run by another worker about one lease after it died; a live one
  // cut off from Redis interrupts its jobs once its lease has run out.
  const lease = await startLease({
    store,
    workerId,
    leaseMs,
    onLost: (sinceRenewalMs) => {
      logger.warn({ workerId, sinceRenewalMs }, 'worker lease lost; interrupting its jobs');
      worker.cancelAllJobs(FENCED_REASON);
      driftChecks?.cancelAll(FENCED_REASON);
    },
    onError: (error) => logger.warn({ err: error }, 'could not renew the worker lease'),
  });
  let driftChecks: Awaited<ReturnType<typeof startDriftChecks>> | undefined;
  const worker = new Worker<JobData>(QUEUE_NAME, processor.processJob, {
    connection,
    prefix: config.redisPrefix,
    concurrency: config.worker.concurrency,
    name: workerId,
    lockDuration: leaseMs,
    stalledInterval: leaseMs,
    // A job whose worker died this often is failed rather than run again.
    maxStalledCount: STALLED_RUNS_ALLOWED,
    runRetryDelay: RUN_RETRY_DELAY_MS,
  });
  worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
  worker.on('failed', (job, error) => {
    if (!job || error instanceof UnrecoverableError) return;
    logger.warn({ bullJobId: job.id, err: error.message }, 'job attempt failed');
    const parsed = JobData.safeParse(job.data);
    if (/stalled more than allowable limit/.test(error.message) && parsed.success) void recordStalledFailure(parsed.data);
  });

  // BullMQ fails a job whose workers kept dying without telling the
  // processor; the resource must not be left creating or deleting for ever.
  async function recordStalledFailure(data: Pick<JobData, 'jobId' | 'resourceId' | 'action'>): Promise<void> {
    const message = `the workers running this job died ${STALLED_RUNS_ALLOWED + 1} times; it was not tried again`;
    try {
      await recordOutcome({ store, queue }, data, { kind: 'failed', detail: JobFailure.retryable('workers-died', `${message}; retry the stack to run it again`).detail });
    } catch (error) {
      logger.error({ err: error, jobId: data.jobId }, 'could not record a stalled job as failed');
    }
  }
  // Cancel requests for running jobs reach every worker; the one running the job acts.
  const cancels = duplicateConnection(connection, `tfcompute-worker-cancels:${workerId}`);
  cancels.on('error', (error) => logger.warn({ err: error.message }, 'redis cancel subscriber error'));
  await worker.waitUntilReady();
  driftChecks = await startDriftChecks({
    connection,
    prefix: config.redisPrefix,
    store,
    catalogue,
    processor,
    logger,
    workerId,
    leaseMs,
    stalledRunsAllowed: STALLED_RUNS_ALLOWED,
    onStalledOut: (jobId, resourceId) => void recordStalledFailure({ jobId, resourceId, action: 'plan' }),
    settings: config.worker.driftCheck,
  });
  const events = await startEvents({ config, connection, store, secrets, logger, workerId, leaseMs });
  await store.channels.subscribe(cancels, ['cancel'], (message) => {
    if (message.topic !== 'cancel') return;
    if (worker.cancelJob(message.jobId, CANCEL_REASON) || driftChecks?.cancel(message.jobId, CANCEL_REASON)) {
      logger.info({ jobId: message.jobId }, 'cancel requested; interrupting terraform');
    }
  });
  const sweeper = setInterval(() => {
    sweepUnqueuedCreates({ store, queue, logger }).catch((error: unknown) => logger.warn({ err: error }, 'sweep failed'));
    // Deleted stacks are kept for the retention period, as their jobs are.
    store.resources.forgetDeleted().catch((error: unknown) => logger.warn({ err: error }, 'forgetting deleted stacks failed'));
  }, SWEEP_EVERY_MS);
  logger.info({ workerId, concurrency: config.worker.concurrency }, 'worker ready');

  let stopping: Promise<void> | undefined;
  return {
    workerId,
    stop() {
      stopping ??= (async () => {
        logger.info({ workerId }, 'worker stopping');
        const closing = Promise.all([worker.close(), driftChecks?.stop(), events.stop()]);
        closing.catch(() => undefined);
        // One SIGINT to each running Terraform; the processor then returns its job to the queue.
        worker.cancelAllJobs('shutdown');
        driftChecks?.cancelAll('shutdown');
        // What must not be cut short is Terraform saving its state, which has
        // the grace period. After that only Redis can hold the close up, and a
        // job we could not hand back is recovered by BullMQ as stalled.
        const steps: Array<[string, () => Promise<unknown>]> = [
          ['terraform', () => within(Promise.all([...templates.values()].map((t) => t.terraform.idle())), config.worker.shutdownGraceMs + 5_000)],
          // The connection's status lags an outage that has just begun, so ask Redis.
          ['worker', async () => within(closing, (await isReachable(connection)) ? 10_000 : 1_000)],
          ['lease', async () => {
            lease.stop();
            clearInterval(sweeper);
            if (connection.status === 'ready') await within(store.leases.end(workerId), 1_000);
          }],
          ['queue', () => within(queue.close(), 2_000)],
          ['redis', () => closeRedis(connection)],
          ['redis cancels', () => closeRedis(cancels)],
          ['s3 clients', async () => {
            for (const runtime of templates.values()) runtime.s3State?.close();
          }],
          ['data dir', () => rm(dataDir, { recursive: true, force: true })],
        ];
        for (const [name, step] of steps) {
          try {
            await step();
          } catch (error) {
            logger.warn({ err: error, step: name }, 'error while stopping');
          }
        }
        logger.info({ workerId }, 'worker stopped');
      })();
      return stopping;
    },
  };
}

async function isReachable(connection: RedisConnection): Promise<boolean> {
  try {
    await within(connection.ping(), 500);
    return true;
  } catch {
    return false;
  }
}
