// Every BullMQ Worker of a worker process, built in one place with the same
// options: the queues' names and constructors are core/queue.ts's (the API
// adds jobs too); how a worker holds a queue's jobs is here. And how a job
// that BullMQ failed itself, because its workers kept dying under it, is
// recognised: by BullMQ's own marks on the job, not by its message.
import { type Job, type Processor, Worker, type WorkerOptions } from 'bullmq';
import { DELIVERY_QUEUE_NAME, DRIFT_QUEUE_NAME, QUEUE_NAME } from '../core/queue.ts';
import type { RedisConnection } from '../core/redis.ts';

// How long a BullMQ worker waits before it tries again one of its own Redis
// calls that failed: fetching the next job, recording a job's end. BullMQ's
// default (15 s) held jobs and webhook deliveries that long, once per failed
// call, after a Redis failover; the job's lock lapsed meanwhile, so a
// delivery was counted as stalled again and again until BullMQ failed it.
const RUN_RETRY_DELAY_MS = 500;

// How often a job's workers may die under it (its lock lapse) before BullMQ
// fails it rather than run it again.
export const STALLS_ALLOWED = {
  [QUEUE_NAME]: 2,
  [DRIFT_QUEUE_NAME]: 2,
  // A delivery whose worker stopped, or lost Redis for longer than its lock
  // (a failover), is sent again: the receiver dedupes by webhook-id. BullMQ's
  // stall limit (1 by default) is for jobs that crash their worker; with it, a
  // failover that outlasted the lock failed deliveries never sent.
  [DELIVERY_QUEUE_NAME]: 1_000,
} as const;

export type QueueName = keyof typeof STALLS_ALLOWED;

// Where a worker's queues are, and its lease: BullMQ's job locks last as
// long, so a dead worker's jobs are taken up again about one lease after it
// died.
export type QueueSite = { connection: RedisConnection; prefix: string; leaseMs: number };

export type WorkerSlots = {
  concurrency: number;
  // The worker's name in BullMQ's client list.
  name?: string;
  settings?: WorkerOptions['settings'];
};

export function createWorker<T>(
  queue: QueueName,
  processor: Processor<T>,
  site: QueueSite,
  slots: WorkerSlots,
): Worker<T> {
  return new Worker<T>(queue, processor, {
    connection: site.connection,
    prefix: site.prefix,
    concurrency: slots.concurrency,
    ...(slots.name === undefined ? {} : { name: slots.name }),
    lockDuration: site.leaseMs,
    stalledInterval: site.leaseMs,
    maxStalledCount: STALLS_ALLOWED[queue],
    runRetryDelay: RUN_RETRY_DELAY_MS,
    ...(slots.settings === undefined ? {} : { settings: slots.settings }),
  });
}

// BullMQ's stall checker counts each time a job's lock lapsed
// (`stalledCounter`), and past the worker's `maxStalledCount` marks the job
// with a deferred failure; the next worker to take the job fails it without
// running it. Those are the jobs `handler` is called with.
export function onStalledOut<T>(worker: Worker<T>, handler: (job: Job<T>) => void): void {
  const allowed = worker.opts.maxStalledCount ?? 1;
  worker.on('failed', (job) => {
    if (job && isStalledOut(job, allowed)) handler(job);
  });
}

export function isStalledOut(job: Pick<Job, 'deferredFailure' | 'stalledCounter'>, allowed: number): boolean {
  return Boolean(job.deferredFailure) && job.stalledCounter > allowed;
}
