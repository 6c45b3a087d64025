// The lifecycle events: every type tfcompute sends, and the schema of each
// type's `data`. `data` is thin on purpose (ids, statuses, the template and
// its version, the stack's tags, links, the policies' verdict with their
// messages): never inputs, outputs, diagnostics or error text. An event whose
// data does not match its type's schema is not sent. The schemas are strict:
// a field not declared here cannot leave.
import { z } from 'zod';
import { Enforcement, PolicyId, POLICY_STATUSES } from '../schemas/policy-results.ts';
import { JobId, ProjectName, StackId, TemplateName, WebhookId } from '../schemas/identifiers.ts';
import { JobAction, JOB_STATUSES, type JobStatus } from '../schemas/jobs.ts';
import { STACK_STATUSES, type StackStatus } from '../schemas/stacks.ts';

export const EVENT_TYPE_PREFIX = 'io.tfcompute.';

// A stack becomes `{status}`; a job becomes `{status}`; a check found the stack drifted.
export const STACK_EVENT_TYPES = STACK_STATUSES.map((status) => `${EVENT_TYPE_PREFIX}stack.${status}` as const);
export const DRIFTED_EVENT_TYPE = `${EVENT_TYPE_PREFIX}stack.drifted` as const;
export const JOB_EVENT_TYPES = JOB_STATUSES.map((status) => `${EVENT_TYPE_PREFIX}job.${status}` as const);
export const PING_EVENT_TYPE = `${EVENT_TYPE_PREFIX}webhook.ping` as const;

export const EVENT_TYPES = [...STACK_EVENT_TYPES, DRIFTED_EVENT_TYPE, ...JOB_EVENT_TYPES, PING_EVENT_TYPE] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const EventTypeName = z.enum(EVENT_TYPES);

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

const Href = z.string().regex(/^\/api\/[a-z0-9/-]+$/);
const Tags = z
  .record(z.string().max(128), z.string().max(256))
  .meta({ description: "The stack's `tags` input, when its template has one that is a map of strings." });

function stackRef(status: z.ZodType<StackStatus>) {
  return z.strictObject({
    id: StackId,
    project: ProjectName,
    href: Href,
    status,
    template: z.strictObject({ name: TemplateName, version: z.string().max(64) }),
    tags: Tags,
  });
}

// The verdict of the policies on the job's plan, once they were evaluated.
const PolicyVerdict = z.strictObject({
  status: z.enum(POLICY_STATUSES),
  results: z.array(
    z.strictObject({
      policy: z.strictObject({ id: PolicyId, name: z.string().max(100) }),
      enforcement: Enforcement,
      passed: z.boolean(),
      message: z.string().max(2000),
    }),
  ),
});

function jobRef(status: z.ZodType<JobStatus>) {
  return z.strictObject({ id: JobId, href: Href, action: JobAction, status, policy: PolicyVerdict.optional() });
}

const AnyStackStatus = z.enum(STACK_STATUSES);
const AnyJobStatus = z.enum(JOB_STATUSES);

const DESCRIPTIONS: Record<string, string> = {
  creating: 'A stack was requested; its create job is queued.',
  ready: 'A stack was created or changed, and is ready.',
  failed: 'A stack could not be created.',
  updating: 'A change of a stack was requested; its update job is queued.',
  update_failed: 'A change of a stack could not be applied.',
  deleting: 'A delete of a stack was requested; its delete job is queued.',
  deleted: 'A stack was destroyed.',
  delete_failed: 'A stack could not be destroyed.',
  queued: 'A job is queued: new, approved, or to be tried again.',
  running: 'A worker started an attempt of a job.',
  planned: "An update's plan awaits approval.",
  policy_failed: "A soft-mandatory policy failed on a job's plan, which awaits an override or a discard.",
  succeeded: 'A job succeeded.',
  cancelled: 'A job was cancelled.',
  discarded: "An update's plan was discarded, unapplied.",
};

function described(type: EventType): string {
  if (type === DRIFTED_EVENT_TYPE)
    return 'A plan found that the stack no longer matches its configuration (it did, or was not known to, before).';
  if (type === PING_EVENT_TYPE) return 'A test delivery, asked for with POST /api/webhooks/{id}/ping.';
  const status = type.slice(type.lastIndexOf('.') + 1);
  return type.startsWith(`${EVENT_TYPE_PREFIX}job.`) && status === 'failed'
    ? 'A job failed (its last attempt).'
    : (DESCRIPTIONS[status] ?? '');
}

// Each type's `data` schema.
export const EVENT_DATA: ReadonlyMap<EventType, z.ZodType> = new Map<EventType, z.ZodType>([
  ...STACK_STATUSES.map((status): [EventType, z.ZodType] => [
    `${EVENT_TYPE_PREFIX}stack.${status}`,
    z.strictObject({ stack: stackRef(z.literal(status)), job: jobRef(AnyJobStatus).nullable() }),
  ]),
  [DRIFTED_EVENT_TYPE, z.strictObject({ stack: stackRef(AnyStackStatus), job: jobRef(AnyJobStatus) })],
  ...JOB_STATUSES.map((status): [EventType, z.ZodType] => [
    `${EVENT_TYPE_PREFIX}job.${status}`,
    z.strictObject({ stack: stackRef(AnyStackStatus), job: jobRef(z.literal(status)) }),
  ]),
  [PING_EVENT_TYPE, z.strictObject({ webhook: z.strictObject({ id: WebhookId, href: Href }) })],
]);

export type EventTypeDescription = { type: EventType; description: string; data_schema: Record<string, unknown> };

// The types with their descriptions and data's JSON Schema (GET /api/event-types).
export function eventTypeDescriptions(): EventTypeDescription[] {
  return EVENT_TYPES.map((type) => ({
    type,
    description: described(type),
    data_schema: z.toJSONSchema(EVENT_DATA.get(type) as z.ZodType, { target: 'draft-2020-12' }) as Record<
      string,
      unknown
    >,
  }));
}
