// The delivery queue's worker: each job sends one delivery, signed with the
// webhook's secrets at the time of the attempt, and records the attempt.
// Timeouts, connection failures, 408, 429 and 5xx are retried on the
// schedule of core/events/retry-schedule.ts (Retry-After honoured); 410
// disables the webhook; any other answer ends the delivery as failed.
import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../core/config.ts';
import { PING_EVENT_TYPE } from '../core/events/catalogue.ts';
import type { CloudEvent } from '../core/events/cloud-event.ts';
import { deliveryRequest } from '../core/events/delivery-request.ts';
import { retryDelay } from '../core/events/retry-schedule.ts';
import type { Logger } from '../core/logger.ts';
import { DELIVERY_BACKOFF, DELIVERY_QUEUE_NAME } from '../core/queue.ts';
import { DeliveryJobData } from '../core/schemas/index.ts';
import type { SecretBox } from '../core/secret-box.ts';
import type { Store } from '../core/store/index.ts';
import { signingSecrets } from '../core/webhooks/manage.ts';
import { sendDelivery } from './webhook-sender.ts';

// Carries a receiver's Retry-After to the backoff strategy.
class RetryLater extends Error {
  override name = 'RetryLater';
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs: number | undefined) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

export function startDeliveries(deps: { connection: Redis; prefix: string; store: Store; secrets: SecretBox | undefined; logger: Logger; settings: Config['webhooks']; lockMs: number }): Worker {
  const { store, logger, settings } = deps;

  async function deliver(job: { data: unknown; attemptsMade: number; opts: { attempts?: number } }): Promise<void> {
    const parsed = DeliveryJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('not a delivery job');
    const { deliveryId, webhookId } = parsed.data;
    const at = new Date();
    const [webhook, delivery] = await Promise.all([store.webhooks.get(webhookId), store.webhooks.getDelivery(deliveryId)]);
    if (!delivery) return;
    const isPing = delivery.eventType === PING_EVENT_TYPE;
    if (!webhook || (!webhook.enabled && !isPing) || !deps.secrets) {
      const why = !webhook ? 'the webhook was deleted' : !deps.secrets ? 'this worker has no ENCRYPTION_KEY to open the secret with' : 'the webhook is disabled';
      await store.webhooks.endDelivery(deliveryId, `not sent: ${why}`, at.toISOString());
      return;
    }
    const request = deliveryRequest(webhook.url, JSON.parse(delivery.event) as CloudEvent, signingSecrets(deps.secrets, webhook, at.getTime()), at);
    const attempt = await sendDelivery(request, { allowPrivateNetworks: settings.allowPrivateNetworks });
    const record = { attempt: job.attemptsMade + 1, at: at.toISOString(), status_code: attempt.statusCode, duration_ms: attempt.durationMs, error: attempt.error ?? null };
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    switch (attempt.outcome) {
      case 'delivered':
        await store.webhooks.recordAttempt(deliveryId, record, 'succeeded', null, 'delivered');
        return;
      case 'retry':
        if (last) {
          await store.webhooks.recordAttempt(deliveryId, record, 'failed', `given up after ${record.attempt} attempts: ${attempt.error}`, 'failed');
        } else {
          await store.webhooks.recordAttempt(deliveryId, record, 'pending', attempt.error ?? null, 'retried');
        }
        throw new RetryLater(attempt.error ?? 'retry', attempt.retryAfterMs);
      case 'gone':
        await store.webhooks.recordAttempt(deliveryId, record, 'failed', attempt.error ?? null, 'failed');
        await store.webhooks.update(webhookId, { enabled: false, disabledReason: `the receiver answered 410 Gone at ${record.at}`, updatedAt: record.at });
        logger.warn({ webhookId }, 'webhook disabled: its receiver answered 410 Gone');
        throw new UnrecoverableError(attempt.error);
      case 'rejected':
        await store.webhooks.recordAttempt(deliveryId, record, 'failed', attempt.error ?? null, 'failed');
        throw new UnrecoverableError(attempt.error);
    }
  }

  const worker = new Worker(DELIVERY_QUEUE_NAME, deliver, {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: settings.concurrency,
    lockDuration: deps.lockMs,
    stalledInterval: deps.lockMs,
    settings: {
      backoffStrategy: (attemptsMade, type, error) => {
        if (type !== DELIVERY_BACKOFF) return 0;
        return retryDelay(settings, Math.max(1, attemptsMade), error instanceof RetryLater ? error.retryAfterMs : undefined);
      },
    },
  });
  worker.on('error', (error) => logger.warn({ err: error.message }, 'delivery worker error'));
  return worker;
}
