// Webhook signing secrets: made here and shown once, stored sealed and bound
// to their webhook; after a rotation the one replaced signs beside its
// successor for a while, so receivers can change over.
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { SecretBox } from '../secret-box.ts';
import type { WebhookRecord } from '../store/index.ts';

// A rotated secret signs beside its successor this long.
export const PREVIOUS_SECRET_MS = 24 * 3_600_000;

// The sealed secret is bound to its webhook: copied onto another, it does not open.
export function secretContext(webhookId: string): string {
  return `webhook:${webhookId}`;
}

export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

// The secret box, or the reason a webhook's secret cannot be made or read.
export function box(deps: { secrets: SecretBox | undefined }): SecretBox {
  if (!deps.secrets)
    throw new AppError(
      'encryption-key-not-set',
      'webhook secrets are stored encrypted, and this installation has no ENCRYPTION_KEY; set one ' +
        '(openssl rand -base64 32) on the API and the workers',
    );
  return deps.secrets;
}

// The secrets that sign a delivery now, newest first.
export function signingSecrets(secrets: SecretBox, webhook: WebhookRecord, now = Date.now()): string[] {
  const context = secretContext(webhook.id);
  const current = [secrets.open(webhook.secret, context)];
  if (webhook.previousSecret && webhook.previousSecretExpiresAt && Date.parse(webhook.previousSecretExpiresAt) > now) {
    current.push(secrets.open(webhook.previousSecret, context));
  }
  return current;
}
