// A webhook's and a delivery's records: their shapes, and how a webhook is
// read from and written to its hash (webhooks.ts stores them).
// The project of a webhook an owner made for every project.
export const EVERY_PROJECT = '*';

export type WebhookRecord = {
  id: string;
  // Whose events it receives: a project's, or EVERY_PROJECT's.
  project: string;
  url: string;
  // Empty: every type.
  eventTypes: string[];
  description: string;
  enabled: boolean;
  disabledReason: string | null;
  // Sealed; `previousSecret` signs beside it until `previousSecretExpiresAt`.
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  circuit: WebhookCircuit;
};

// Closed, or open until `until` (once past it, half-open: the next attempt
// decides). Only the circuit's scripts change it.
export type WebhookCircuit = { open: boolean; until: string | null; reason: string | null; changedAt: string | null };

// When a circuit opens, and for how long (see lua/record-circuit-2.lua).
export type CircuitSettings = { failures: number; windowMs: number; openMs: number };

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export type DeliveryAttempt = {
  attempt: number;
  at: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
};

export type DeliveryRecord = {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  // The CloudEvent as JSON: what every attempt (and a redelivery) sends.
  event: string;
  status: DeliveryStatus;
  error: string | null;
  redeliveryOf: string | null;
  createdAt: string;
  updatedAt: string;
  attempts: DeliveryAttempt[];
};

export function toWebhook(hash: Record<string, string>): WebhookRecord {
  return {
    id: hash.id ?? '',
    // Before migration 6 a webhook had no project and received every event;
    // a worker may read one before the API has migrated it.
    project: hash.project || EVERY_PROJECT,
    url: hash.url ?? '',
    eventTypes: JSON.parse(hash.event_types ?? '[]') as string[],
    description: hash.description ?? '',
    enabled: hash.enabled === '1',
    disabledReason: hash.disabled_reason || null,
    secret: hash.secret ?? '',
    previousSecret: hash.previous_secret || null,
    previousSecretExpiresAt: hash.previous_secret_expires_at || null,
    createdBy: hash.created_by ?? '',
    createdAt: hash.created_at ?? '',
    updatedAt: hash.updated_at ?? '',
    circuit: {
      open: hash.circuit_state === 'open',
      until: hash.circuit_until || null,
      reason: hash.circuit_reason || null,
      changedAt: hash.circuit_changed_at || null,
    },
  };
}

export function webhookFields(changes: Partial<Omit<WebhookRecord, 'circuit'>>): string[] {
  const fields: Record<string, string | undefined> = {
    url: changes.url,
    event_types: changes.eventTypes && JSON.stringify(changes.eventTypes),
    description: changes.description,
    enabled: changes.enabled === undefined ? undefined : changes.enabled ? '1' : '0',
    disabled_reason: changes.disabledReason === undefined ? undefined : (changes.disabledReason ?? ''),
    secret: changes.secret,
    previous_secret: changes.previousSecret === undefined ? undefined : (changes.previousSecret ?? ''),
    previous_secret_expires_at:
      changes.previousSecretExpiresAt === undefined ? undefined : (changes.previousSecretExpiresAt ?? ''),
    updated_at: changes.updatedAt,
  };
  return Object.entries(fields).flatMap(([field, value]) => (value === undefined ? [] : [field, value]));
}
