// A recorded event (an outbox entry, see core/store/lua/includes/events.lua)
// as the CloudEvent 1.0 every receiver gets, in the structured JSON mode:
// the same for every webhook and every redelivery of it.
import { createHash } from 'node:crypto';
import { EVENT_DATA, isEventType, type EventType } from './catalogue.ts';

// The CloudEvents sequence extension compares strings: digits are padded.
const SEQUENCE_DIGITS = 16;

export type OutboxEntry = {
  // The events stream's entry id: unique, minted when the change was recorded.
  entryId: string;
  type: string;
  subject: string;
  sequence: number;
  time: string;
  // JSON, as the Lua scripts wrote it (no links yet).
  data: string;
};

export type CloudEvent = {
  specversion: '1.0';
  id: string;
  source: string;
  type: EventType;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  sequence: string;
  data: Record<string, unknown>;
};

export const CLOUD_EVENT_CONTENT_TYPE = 'application/cloudevents+json';

// `urn:tfcompute:site:` and the SHA-512 of the installation's random seed:
// the same for every event of one installation, and nothing about its host
// or account can be read from it.
export function eventSource(seed: string): string {
  return `urn:tfcompute:site:${createHash('sha512').update(seed).digest('hex')}`;
}

export function eventId(entryId: string): string {
  return `evt_${entryId}`;
}

export function sequenceOf(n: number): string {
  return String(n).padStart(SEQUENCE_DIGITS, '0');
}

type Recorded = {
  stack?: { id: string; template?: { name: string } } & Record<string, unknown>;
  job?: ({ id: string } & Record<string, unknown>) | null;
} & Record<string, unknown>;

// The links a receiver follows, added to what the script recorded.
function withLinks(data: Recorded): Recorded {
  const linked: Recorded = { ...data };
  if (data.stack) linked.stack = { ...data.stack, href: `/api/${data.stack.template?.name}/${data.stack.id}` };
  if (data.job) linked.job = { ...data.job, href: `/api/jobs/${data.job.id}` };
  return linked;
}

export type Built = { ok: true; event: CloudEvent } | { ok: false; reason: string };

// The CloudEvent of an entry, or why it must not be sent: an unknown type,
// or data its type's schema refuses.
export function toCloudEvent(entry: OutboxEntry, source: string): Built {
  if (!isEventType(entry.type)) return { ok: false, reason: `unknown event type ${entry.type}` };
  let recorded: Recorded;
  try {
    recorded = JSON.parse(entry.data) as Recorded;
  } catch {
    return { ok: false, reason: 'its data is not JSON' };
  }
  return buildEvent(
    {
      id: eventId(entry.entryId),
      type: entry.type,
      subject: entry.subject,
      time: entry.time,
      sequence: entry.sequence,
      data: withLinks(recorded),
    },
    source,
  );
}

// A CloudEvent from its parts, if its data matches its type's schema.
export function buildEvent(
  parts: { id: string; type: EventType; subject: string; time: string; sequence: number; data: unknown },
  source: string,
): Built {
  const checked = EVENT_DATA.get(parts.type)?.safeParse(parts.data);
  if (!checked?.success) {
    const issue = checked?.error.issues[0];
    return {
      ok: false,
      reason:
        'its data does not match the schema of ' +
        `${parts.type}${issue ? ` (${issue.path.join('.') || 'data'}: ${issue.message})` : ''}`,
    };
  }
  return {
    ok: true,
    event: {
      specversion: '1.0',
      id: parts.id,
      source,
      type: parts.type,
      subject: parts.subject,
      time: parts.time,
      datacontenttype: 'application/json',
      sequence: sequenceOf(parts.sequence),
      data: checked.data as Record<string, unknown>,
    },
  };
}
