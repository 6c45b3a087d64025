// Job data as it travels through the queue from the API to the workers.
import { z } from 'zod';
import { DeliveryId, JobId, StackId, TemplateName, TemplateRef, WebhookId } from './identifiers.ts';
import { JobAction } from './jobs.ts';

// On the queue the stack's id keeps the name queued jobs have always carried,
// `resourceId`: expire timers and drift-check schedules wait in Redis across
// upgrades, and workers of the previous version run beside a new API during
// a rolling one. The code calls it stackId; these two convert at the edge.
export function toQueue<T extends { stackId: string }>({
  stackId,
  ...rest
}: T): Omit<T, 'stackId'> & { resourceId: string } {
  return { ...rest, resourceId: stackId };
}
function fromQueue<T extends { resourceId: string }>({
  resourceId,
  ...rest
}: T): Omit<T, 'resourceId'> & { stackId: string } {
  return { ...rest, stackId: resourceId };
}

// The worker parses it again: anything could have written to the queue.
export const QueuedJobData = z.strictObject({
  jobId: JobId,
  resourceId: StackId,
  action: JobAction,
  // The template and version the API validated the inputs against: a worker
  // with another version of it does not run this job (see worker/terraform/templates.ts).
  template: TemplateRef,
  // The inputs the caller set, as Terraform variables; defaults are left to
  // Terraform. Sensitive inputs never travel in the queue.
  inputs: z.record(z.string(), z.unknown()),
  // A retried create runs in the workspace its first create made, so the
  // adoption check (which would find its own resources) is skipped.
  retry: z.boolean().default(false),
  // An update applies its plan at once instead of waiting for approval.
  autoApply: z.boolean().default(false),
  // An update whose plan was approved, or a job whose policies were
  // overridden: apply the saved plan, nothing else.
  approved: z.boolean().default(false),
  // Who asked for the job (none: tfcompute itself, a ttl or a drift check),
  // for the policies that check the actor.
  actor: z.strictObject({ name: z.string().max(512), kind: z.enum(['token', 'oidc', 'local']) }).optional(),
  // The stack's own workspace_key_prefix, when it has one. The worker takes
  // the prefix from the stack's record; this copy is here so that a worker
  // from before stacks had prefixes of their own (during a rolling deploy)
  // refuses the job as one it cannot parse, failing it with a reason,
  // instead of running it under the shared prefix, where the next worker
  // would not find its state and a delete would leave its resources behind.
  statePrefix: z
    .string()
    .regex(/^tfcompute-stacks\/[0-9a-z]{16}$/)
    .optional(),
});
export const JobData = QueuedJobData.transform(fromQueue);
export type JobData = z.output<typeof JobData>;
// What the API writes (the flags with defaults may be left out), and how it travels.
export type NewJobData = Omit<z.input<typeof QueuedJobData>, 'resourceId'> & { stackId: string };
export type QueuedJobData = z.input<typeof QueuedJobData>;

// An `expire` job: fires when a stack's ttl runs out and requests its delete.
export const ExpireJobData = z.strictObject({ resourceId: StackId }).transform(fromQueue);
export type ExpireJobData = z.output<typeof ExpireJobData>;

// A `forget-plan` job: removes the saved plan of an update that was discarded.
export const ForgetPlanJobData = z
  .strictObject({ resourceId: StackId, jobId: JobId, template: TemplateName })
  .transform(fromQueue);
export type ForgetPlanJobData = z.output<typeof ForgetPlanJobData>;

// A scheduled drift check of one stack (its own queue, see worker/jobs/drift-checks.ts).
export const DriftCheckJobData = z.strictObject({ resourceId: StackId }).transform(fromQueue);
export type DriftCheckJobData = z.output<typeof DriftCheckJobData>;

// One delivery of an event to a webhook (its own queue, see
// worker/webhooks/deliveries.ts); the event itself is in the delivery's record.
export const DeliveryJobData = z.strictObject({ deliveryId: DeliveryId, webhookId: WebhookId });
export type DeliveryJobData = z.infer<typeof DeliveryJobData>;
