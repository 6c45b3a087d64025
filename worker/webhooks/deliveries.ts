// The delivery queue's worker: each job sends one delivery, signed with the
// webhook's secrets at the time of the attempt, and records the attempt.
// Timeouts, connection failures, 408, 429 and 5xx are retried on the
// schedule of core/events/retry-schedule.ts (Retry-After honoured); 410
// disables the webhook; any other answer ends the delivery as failed.
// No webhook takes more than its share of the slots (delivery-shares.ts),
// and one whose receiver fails every attempt is paused by its circuit
// breaker (lua/record-circuit-2.lua): its deliveries wait, unattempted.
import { DelayedError, type Job, UnrecoverableError, type Worker } from 'bullmq';
import type { Config } from '../../core/config.ts';
import { PING_EVENT_TYPE } from '../../core/events/catalogue.ts';
import type { CloudEvent } from '../../core/events/cloud-event.ts';
import { deliveryRequest } from './delivery-request.ts';
import { retryDelay } from '../../core/events/retry-schedule.ts';
import type { Logger } from '../../core/logger.ts';
import { DELIVERY_BACKOFF, DELIVERY_QUEUE_NAME, type DeliveryQueue } from '../../core/queue.ts';
import { DeliveryJobData } from '../../core/schemas/index.ts';
import type { SecretBox } from '../../core/secret-box.ts';
import type { DeliveryAttempt, Store } from '../../core/store/index.ts';
import { signingSecrets } from '../../core/webhooks/secrets.ts';
import { createWorker, onStalledOut, type QueueSite, STALLS_ALLOWED } from '../queues.ts';
import { DeliveryShares } from './delivery-shares.ts';
import { type Attempt, DELIVERY_TIMEOUT_MS, sendDelivery } from './sender.ts';

// A delivery whose webhook has its share in flight is looked at again after
// one to two times this, off the slots meanwhile.
const SHARE_WAIT_MS = 500;
// Failures in a row open a circuit only if they came within this of the first.
export const CIRCUIT_WINDOW_MS = 10 * 60_000;
// A half-open circuit's trial attempt has this long before another is let
// through (its worker may have died).
const TRIAL_MS = DELIVERY_TIMEOUT_MS + 5_000;
// Held deliveries come back spread over this, not all in one instant.
const HELD_SPREAD_MS = 1_000;

// Carries a receiver's Retry-After to the backoff strategy.
class RetryLater extends Error {
  override name = 'RetryLater';
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs: number | undefined) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

export type DeliverySettings = Pick<
  Config['webhooks'],
  | 'allowPrivateNetworks'
  | 'concurrency'
  | 'concurrencyPerWebhook'
  | 'backoffMs'
  | 'backoffMaxMs'
  | 'retryForMs'
  | 'circuitFailures'
  | 'circuitOpenMs'
>;

type Deps = {
  site: QueueSite;
  store: Store;
  deliveries: DeliveryQueue;
  secrets: SecretBox | undefined;
  logger: Logger;
  settings: DeliverySettings;
};

export function startDeliveries(deps: Deps): Worker {
  const { store, logger, settings } = deps;
  const shares = new DeliveryShares(settings.concurrencyPerWebhook);
  const circuit = { failures: settings.circuitFailures, windowMs: CIRCUIT_WINDOW_MS, openMs: settings.circuitOpenMs };

  async function deliver(job: Job, token?: string): Promise<void> {
    const parsed = DeliveryJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('not a delivery job');
    const give = shares.take(parsed.data.webhookId);
    if (!give) {
      await job.moveToDelayed(Date.now() + SHARE_WAIT_MS * (1 + Math.random()), token);
      throw new DelayedError();
    }
    try {
      await tryDelivery(job, token, parsed.data);
    } finally {
      give();
    }
  }

  async function tryDelivery(
    job: Job,
    token: string | undefined,
    { deliveryId, webhookId }: DeliveryJobData,
  ): Promise<void> {
    const at = new Date();
    const [webhook, delivery] = await Promise.all([
      store.webhooks.get(webhookId),
      store.webhooks.getDelivery(deliveryId),
    ]);
    if (!delivery) return;
    const isPing = delivery.eventType === PING_EVENT_TYPE;
    if (!webhook || (!webhook.enabled && !isPing) || !deps.secrets) {
      const why = !webhook
        ? 'the webhook was deleted'
        : !deps.secrets
          ? 'this worker has no ENCRYPTION_KEY to open the secret with'
          : 'the webhook is disabled';
      await store.webhooks.endDelivery(deliveryId, `not sent: ${why}`, at.toISOString());
      return;
    }
    // A ping is how a user tests the receiver: it goes whatever the circuit says.
    if (webhook.circuit.open && !isPing && !(await admitted(job, token, deliveryId, webhookId))) return;
    const request = deliveryRequest(
      webhook.url,
      JSON.parse(delivery.event) as CloudEvent,
      signingSecrets(deps.secrets, webhook, at.getTime()),
      at,
    );
    const attempt = await sendDelivery(request, { allowPrivateNetworks: settings.allowPrivateNetworks });
    await countForCircuit(webhookId, attempt);
    const record = {
      attempt: job.attemptsMade + 1,
      at: at.toISOString(),
      status_code: attempt.statusCode,
      duration_ms: attempt.durationMs,
      error: attempt.error ?? null,
    };
    await recordOutcome(job, { deliveryId, webhookId }, record, attempt);
  }

  // Records the attempt, and ends, retries or disables as its outcome says.
  async function recordOutcome(
    job: Job,
    { deliveryId, webhookId }: DeliveryJobData,
    record: DeliveryAttempt,
    attempt: Attempt,
  ): Promise<void> {
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    switch (attempt.outcome) {
      case 'delivered':
        await store.webhooks.recordAttempt(deliveryId, record, 'succeeded', null, 'delivered');
        return;
      case 'retry':
        if (last) {
          await store.webhooks.recordAttempt(
            deliveryId,
            record,
            'failed',
            `given up after ${record.attempt} attempts: ${attempt.error}`,
            'failed',
          );
        } else {
          await store.webhooks.recordAttempt(deliveryId, record, 'pending', attempt.error ?? null, 'retried');
        }
        throw new RetryLater(attempt.error ?? 'retry', attempt.retryAfterMs);
      case 'gone':
        await store.webhooks.recordAttempt(deliveryId, record, 'failed', attempt.error ?? null, 'failed');
        await store.webhooks.update(webhookId, {
          enabled: false,
          disabledReason: `the receiver answered 410 Gone at ${record.at}`,
          updatedAt: record.at,
        });
        logger.warn({ webhookId }, 'webhook disabled: its receiver answered 410 Gone');
        throw new UnrecoverableError(attempt.error);
      case 'rejected':
        await store.webhooks.recordAttempt(deliveryId, record, 'failed', attempt.error ?? null, 'failed');
        if (attempt.refusal)
          logger.warn(
            { deliveryId, webhookId, reason: attempt.refusal },
            "delivery refused: the receiver's address is not allowed",
          );
        throw new UnrecoverableError(attempt.error);
    }
  }

  // True when the circuit lets the delivery be attempted (closed, or its
  // trial); otherwise it is held off the slots until the circuit may let it
  // through, without using an attempt, unless it is past its retry period.
  async function admitted(
    job: Job,
    token: string | undefined,
    deliveryId: string,
    webhookId: string,
  ): Promise<boolean> {
    const admission = await store.webhooks.admit(webhookId, deliveryId, TRIAL_MS);
    if (admission.outcome !== 'wait') return true;
    if (Date.now() - job.timestamp > settings.retryForMs) {
      await store.webhooks.endDelivery(
        deliveryId,
        "given up: the webhook's circuit stayed open past the retry period",
        new Date().toISOString(),
      );
      return false;
    }
    await job.moveToDelayed(admission.untilMs + Math.round(Math.random() * HELD_SPREAD_MS), token);
    // The circuit may have closed between the look and the move.
    if (!(await store.webhooks.get(webhookId))?.circuit.open) await job.promote().catch(() => undefined);
    throw new DelayedError();
  }

  // No answer, or one to retry, counts towards opening the circuit; any
  // other answer says the receiver is up, and closes it (its held deliveries
  // are sent at once). A refused address says nothing of the receiver.
  async function countForCircuit(webhookId: string, sent: Attempt): Promise<void> {
    const result = sent.outcome === 'retry' ? 'failure' : sent.statusCode !== null ? 'success' : undefined;
    if (!result) return;
    const change = await store.webhooks.recordCircuit(webhookId, result, circuit, sent.error ?? '');
    if (change.outcome === 'opened' || change.outcome === 'reopened') {
      logger.warn(
        { webhookId, reason: change.reason, pauseSeconds: settings.circuitOpenMs / 1000 },
        `webhook circuit ${change.outcome}: its deliveries wait`,
      );
    } else if (change.outcome === 'closed') {
      logger.info({ webhookId, held: change.held.length }, 'webhook circuit closed: its held deliveries are sent now');
      await Promise.all(
        change.held.map(async (id) => (await deps.deliveries.getJob(id))?.promote().catch(() => undefined)),
      );
    }
  }

  const worker = createWorker(DELIVERY_QUEUE_NAME, deliver, deps.site, {
    concurrency: settings.concurrency,
    settings: {
      backoffStrategy: (attemptsMade, type, error) => {
        if (type !== DELIVERY_BACKOFF) return 0;
        return retryDelay(
          settings,
          Math.max(1, attemptsMade),
          error instanceof RetryLater ? error.retryAfterMs : undefined,
        );
      },
    },
  });
  worker.on('error', (error) => logger.warn({ err: error.message }, 'delivery worker error'));
  // Failed by BullMQ itself (its stall limit), not by an attempt: the record
  // says so, rather than pending for ever.
  onStalledOut(worker, (job) => {
    const parsed = DeliveryJobData.safeParse(job.data);
    if (!parsed.success) return;
    logger.error({ deliveryId: parsed.data.deliveryId }, 'delivery failed: its workers stopped too often');
    store.webhooks
      .endDelivery(
        parsed.data.deliveryId,
        `not sent: its workers stopped ${STALLS_ALLOWED[DELIVERY_QUEUE_NAME] + 1} times`,
        new Date().toISOString(),
      )
      .catch(() => undefined);
  });
  return worker;
}
