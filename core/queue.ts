// The queue contract between the API (producer) and workers (consumers):
// every queue's name (they name its Redis keys: never change one), its
// constructor and the options its jobs get. The workers' side of each queue
// (lock, stall limit, retry delay) is worker/queues.ts.
import { Queue } from 'bullmq';
import type { RedisConnection } from './redis.ts';
import type { DeliveryJobData, QueuedJobData } from './schemas/index.ts';

export const QUEUE_NAME = 'terraform';

// Jobs as they travel (see toQueue in core/schemas/queue-payloads.ts): a
// stack's job, its `expire` job or the `forget-plan` of a discarded plan.
type Queued = QueuedJobData | { resourceId: string } | { resourceId: string; jobId: string; template: string };
export type JobQueue = Queue<Queued>;

export function createQueue(connection: RedisConnection, prefix: string): JobQueue {
  return new Queue<Queued>(QUEUE_NAME, {
    connection,
    prefix,
    skipWaitingForReady: true,
  });
}

export function jobOptions(jobId: string, attempts: number, backoffMs: number) {
  return {
    jobId,
    attempts,
    backoff: { type: 'exponential', delay: backoffMs },
    // Our own job records (core/store/index.ts) are what users read; BullMQ's copies
    // only need to live long enough to debug a failure.
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  } as const;
}

// Webhook deliveries have a queue of their own: a slow or failing receiver
// never holds up a Terraform job, and their retries follow their own schedule.
export const DELIVERY_QUEUE_NAME = 'webhook-deliveries';
export const DELIVERY_BACKOFF = 'webhook';

export type DeliveryQueue = Queue<DeliveryJobData>;

export function createDeliveryQueue(connection: RedisConnection, prefix: string): DeliveryQueue {
  return new Queue<DeliveryJobData>(DELIVERY_QUEUE_NAME, { connection, prefix, skipWaitingForReady: true });
}

// `attempts`: enough to retry for WEBHOOK_RETRY_FOR (core/events/retry-schedule.ts).
export function deliveryJobOptions(deliveryId: string, attempts: number) {
  return {
    jobId: deliveryId,
    attempts,
    backoff: { type: DELIVERY_BACKOFF },
    // The delivery's own record (core/store/webhooks.ts) is what users read,
    // and what keeps a settled delivery from being queued again.
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  } as const;
}

// Drift checks have a queue of their own too (see worker/jobs/drift-checks.ts):
// only workers add to it, on a schedule.
export const DRIFT_QUEUE_NAME = 'drift-checks';

export function createDriftQueue(connection: RedisConnection, prefix: string): Queue {
  return new Queue(DRIFT_QUEUE_NAME, { connection, prefix, skipWaitingForReady: true });
}
