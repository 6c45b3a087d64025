// The Terraform jobs' queue as a worker takes it: the processor
// (processor.ts) behind a BullMQ worker, and the record of a job that BullMQ
// failed itself because its workers kept dying under it.
import { UnrecoverableError } from 'bullmq';
import type { Logger } from '../../core/logger.ts';
import { QUEUE_NAME } from '../../core/queue.ts';
import { JobData } from '../../core/schemas/index.ts';
import { JobFailure } from '../job-failure.ts';
import { createWorker, onStalledOut, type QueueSite, STALLS_ALLOWED } from '../queues.ts';
import { recordOutcome } from './outcome.ts';
import { createProcessor, type JobProcessor, type ProcessorDeps } from './processor.ts';

export type JobQueueWorker = {
  processor: JobProcessor;
  // Interrupts a running job; false when this worker runs none with that id.
  cancel(jobId: string, reason: string): boolean;
  cancelAll(reason: string): void;
  close(): Promise<void>;
};

export async function startJobQueue(
  deps: ProcessorDeps & { site: QueueSite; concurrency: number },
): Promise<JobQueueWorker> {
  const { logger } = deps;
  const processor = createProcessor(deps);
  const worker = createWorker<JobData>(QUEUE_NAME, processor.processJob, deps.site, {
    concurrency: deps.concurrency,
    name: deps.workerId,
  });
  worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
  worker.on('failed', (job, error) => {
    if (!job || error instanceof UnrecoverableError) return;
    logger.warn({ bullJobId: job.id, err: error.message }, 'job attempt failed');
  });
  onStalledOut(worker, (job) => {
    const parsed = JobData.safeParse(job.data);
    if (parsed.success) void recordStalledFailure(deps, parsed.data);
  });
  await worker.waitUntilReady();
  return {
    processor,
    cancel: (jobId, reason) => worker.cancelJob(jobId, reason),
    cancelAll: (reason) => worker.cancelAllJobs(reason),
    close: () => worker.close(),
  };
}

// BullMQ fails a job whose workers kept dying without telling the
// processor; the stack must not be left creating or deleting for ever.
export async function recordStalledFailure(
  deps: Pick<ProcessorDeps, 'store' | 'queue'> & { logger: Logger },
  data: Pick<JobData, 'jobId' | 'stackId' | 'action'>,
): Promise<void> {
  const message = `the workers running this job died ${STALLS_ALLOWED[QUEUE_NAME] + 1} times; it was not tried again`;
  deps.logger.error({ jobId: data.jobId, stackId: data.stackId }, 'job failed: its workers kept dying');
  try {
    const { detail } = JobFailure.retryable('workers-died', `${message}; retry the stack to run it again`);
    await recordOutcome(deps, data, { kind: 'failed', detail });
  } catch (error) {
    deps.logger.error({ err: error, jobId: data.jobId }, 'could not record a stalled job as failed');
  }
}
