// A worker process's lifecycle: initialise Terraform once, consume jobs, and
// on stop hand running jobs back to the queue after Terraform has stopped
// cleanly. This file only wires the parts; each has its own start and stop.
import { hostname } from 'node:os';
import { nanoid } from 'nanoid';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { SecretBox } from '../core/secret-box.ts';
import { loadCatalogue } from '../core/templates/index.ts';
import { within } from '../core/within.ts';
import { startCancels } from './cancels.ts';
import { type Connections, openConnections } from './connections.ts';
import { type DriftChecks, startDriftChecks } from './jobs/drift-checks.ts';
import { type JobQueueWorker, recordStalledFailure, startJobQueue } from './jobs/job-queue.ts';
import { CANCEL_REASON, FENCED_REASON } from './jobs/processor.ts';
import { startSweeper } from './jobs/sweeper.ts';
import { startLease, type WorkerLease } from './lease.ts';
import { stateLockTiming } from './terraform/state-lock.ts';
import { closeStateClients, prepareTemplates, type TemplateRuntime, terraformIdle } from './terraform/templates.ts';
import { startWebhooks } from './webhooks/webhooks.ts';
import { makeWorkDir, type WorkDir } from './work-dir.ts';

export type RunningWorker = {
  workerId: string;
  stop(): Promise<void>;
};

// What runs Terraform, and so can be interrupted: the jobs' queue and the drift checks.
type Interruptible = { cancel(jobId: string, reason: string): boolean; cancelAll(reason: string): void };

export async function startWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  const workerId = `${hostname()}-${process.pid}-${nanoid(6)}`;
  const { leaseMs, shutdownGraceMs } = config.worker;
  const workDir = await makeWorkDir(config.worker.workDir, workerId);
  const catalogue = await loadCatalogue(config.templates, { canEncrypt: config.encryptionKey !== undefined });
  const templateSettings = { terraform: config.terraform, worker: config.worker };
  const templates = await prepareTemplates(templateSettings, catalogue, workDir.dataDir, workerId, logger);
  const secrets = config.encryptionKey ? new SecretBox(config.encryptionKey) : undefined;
  const { redis: target, redisPrefix, redisWaitReplicas } = config;
  const redisSettings = {
    redis: target,
    redisPrefix,
    redisWaitReplicas,
    jobRetentionSeconds: config.worker.jobRetentionSeconds,
  };
  const redis = openConnections(redisSettings, workerId, logger);
  const { store, queue } = redis;
  const site = { connection: redis.connection, prefix: redisPrefix, leaseMs };
  const running: Interruptible[] = [];
  // A live worker cut off from Redis interrupts its jobs once its lease has
  // run out: BullMQ's job locks last as long, so another worker may run them.
  const lease = await startLease({
    store,
    workerId,
    leaseMs,
    onLost: (sinceRenewalMs) => {
      logger.warn({ workerId, sinceRenewalMs }, 'worker lease lost; interrupting its jobs');
      for (const part of running) part.cancelAll(FENCED_REASON);
    },
    onError: (error) => logger.warn({ err: error }, 'could not renew the worker lease'),
  });
  const lockTiming = stateLockTiming(leaseMs, shutdownGraceMs);
  const jobs = await startJobQueue({
    site,
    store,
    queue,
    templates,
    catalogue,
    secrets,
    logger,
    workerId,
    lockTiming,
    jobs: { attempts: config.worker.attempts, backoffMs: config.worker.backoffMs },
    jobsDir: workDir.jobsDir,
    concurrency: config.worker.concurrency,
    versionWaitMs: config.worker.versionWaitMs,
    lockWaitMs: Math.max(250, lockTiming.heartbeatMs),
    policyTimeoutMs: config.worker.policyTimeoutMs,
  });
  const onStalledOut = (jobId: string, stackId: string) =>
    void recordStalledFailure({ store, queue, logger }, { jobId, stackId, action: 'plan' });
  const { processor } = jobs;
  const settings = config.worker.driftCheck;
  const driftChecks = await startDriftChecks({
    site,
    store,
    catalogue,
    processor,
    logger,
    workerId,
    onStalledOut,
    settings,
  });
  running.push(jobs, driftChecks);
  const webhooks = await startWebhooks({ site, store, secrets, logger, workerId, settings: config.webhooks });
  const cancel = (jobId: string) => running.some((part) => part.cancel(jobId, CANCEL_REASON));
  const cancels = await startCancels({ connection: redis.connection, store, workerId, logger }, cancel);
  const sweeper = startSweeper({ store, queue, logger });
  logger.info({ workerId, concurrency: config.worker.concurrency }, 'worker ready');

  const parts: Parts = {
    workerId,
    shutdownGraceMs,
    workDir,
    templates,
    redis,
    lease,
    jobs,
    driftChecks,
    webhooks,
    cancels,
    sweeper,
  };
  let stopping: Promise<void> | undefined;
  return { workerId, stop: () => (stopping ??= stopWorker(parts, logger)) };
}

type Parts = {
  workerId: string;
  shutdownGraceMs: number;
  workDir: WorkDir;
  templates: ReadonlyMap<string, TemplateRuntime>;
  redis: Connections;
  lease: WorkerLease;
  jobs: JobQueueWorker;
  driftChecks: DriftChecks;
  webhooks: { stop(): Promise<void> };
  cancels: { stop(): Promise<void> };
  sweeper: { stop(): void };
};

async function stopWorker(parts: Parts, logger: Logger): Promise<void> {
  const { workerId, templates, redis } = parts;
  logger.info({ workerId }, 'worker stopping');
  const closing = Promise.all([parts.jobs.close(), parts.driftChecks.stop(), parts.webhooks.stop()]);
  closing.catch(() => undefined);
  // One SIGINT to each running Terraform; the processor then returns its job to the queue.
  parts.jobs.cancelAll('shutdown');
  parts.driftChecks.cancelAll('shutdown');
  // What must not be cut short is Terraform saving its state, which has
  // the grace period. After that only Redis can hold the close up, and a
  // job we could not hand back is recovered by BullMQ as stalled.
  await runSteps(logger, [
    ['terraform', () => terraformIdle(templates, parts.shutdownGraceMs + 5_000)],
    ['worker', async () => within(closing, (await redis.isReachable()) ? 10_000 : 1_000)],
    ['sweeper', async () => parts.sweeper.stop()],
    ['lease', () => parts.lease.end(redis.connection.status === 'ready')],
    ['queue', () => redis.closeQueue()],
    ['redis', () => redis.close()],
    ['redis cancels', () => parts.cancels.stop()],
    ['s3 clients', async () => closeStateClients(templates)],
    ['data dir', () => parts.workDir.remove()],
  ]);
  logger.info({ workerId }, 'worker stopped');
}

// Each step in order, the next one even if one fails.
async function runSteps(
  logger: Logger,
  steps: ReadonlyArray<readonly [string, () => Promise<unknown>]>,
): Promise<void> {
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (error) {
      logger.warn({ err: error, step: name }, 'error while stopping');
    }
  }
}
