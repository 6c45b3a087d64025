// The HTTP request of one delivery: the CloudEvent as structured JSON, signed
// the Standard Webhooks way (webhook-id, webhook-timestamp, webhook-signature:
// "v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}>", one per secret in
// use while a rotated secret still signs). The delivery queue sends exactly
// this, and `npm run events -- preview` prints it.
import { Webhook } from 'standardwebhooks';
import { CLOUD_EVENT_CONTENT_TYPE, type CloudEvent } from '../../core/events/cloud-event.ts';

export const USER_AGENT = 'tfcompute-webhooks/1';

export type DeliveryRequest = { url: string; method: 'POST'; headers: Record<string, string>; body: string };

// `secrets`: the webhook's secrets that sign now, newest first ("whsec_...").
export function deliveryRequest(url: string, event: CloudEvent, secrets: readonly string[], at: Date): DeliveryRequest {
  const body = JSON.stringify(event);
  // Standard Webhooks signs whole seconds.
  const timestamp = new Date(Math.floor(at.getTime() / 1000) * 1000);
  const signatures = secrets.map((secret) => new Webhook(secret).sign(event.id, timestamp, body));
  return {
    url,
    method: 'POST',
    headers: {
      'content-type': CLOUD_EVENT_CONTENT_TYPE,
      'user-agent': USER_AGENT,
      'webhook-id': event.id,
      'webhook-timestamp': String(timestamp.getTime() / 1000),
      'webhook-signature': signatures.join(' '),
    },
    body,
  };
}
