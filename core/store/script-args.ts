// What each Lua script (lua/) is given besides its keys and the key prefix:
// one object, packed as JSON into ARGV[2] and decoded by the script into a
// table of the same field names.
import type { AuditAction } from '../schemas/index.ts';

// A note as the scripts record it (lua/includes/audit.lua): the entry's fields
// the script cannot know, and the retention; none for a change no user asked for.
export type AuditRecord = {
  id: string;
  at: string;
  actor: { kind: 'token' | 'oidc' | 'local'; name: string };
  action: AuditAction;
  request_id: string;
  min_ms: string;
  keep_ms: string;
};

// JSON-encoded values (inputs, errors, plans) stay strings: a script writes
// them into a record as they are. `audit`: absent for a change no user asked for.
type Audit = { audit?: AuditRecord | undefined };
// What every script about one job of a stack is given (lua/includes/job-script.lua).
type JobScript = { jobId: string; now: string };
type NewJob = JobScript & { nowMs: number; maxAttempts: number; templateVersion: string } & Audit;

export type CreateArgs = {
  stackId: string;
  jobId: string;
  now: string;
  member: string;
  inputs: string;
  setInputs: string;
  secrets: string;
  maxAttempts: number;
  owner: string;
  cap: number;
  createdBy: string;
  fingerprint: string;
  idempotencySeconds: number;
  expiresAt: string;
  template: string;
  templateVersion: string;
  project: string;
  statePrefix: string;
} & Audit;
export type RequestDeleteArgs = NewJob & {
  retentionSeconds: number;
  cancelledError: string;
  emptyResult: string;
  discardedError: string;
};
export type RequestRetryArgs = NewJob & { inputs: string };
export type RequestUpdateArgs = NewJob & { inputs: string; setInputs: string; secrets: string; autoApply: '1' | '0' };
export type RequestPlanArgs = NewJob & { onlyIfIdle: boolean };
export type ApproveArgs = JobScript & { approvedBy: string } & Audit;
export type OverrideArgs = JobScript & { by: string; reason: string } & Audit;
export type DiscardPlanArgs = JobScript & {
  nowMs: number;
  status: 'discarded' | 'cancelled';
  error: string;
  retentionSeconds: number;
} & Audit;
export type MarkRunningArgs = JobScript & { nowMs: number };
export type RequeueArgs = JobScript & { error: string };
export type MarkPlannedArgs = JobScript & { plan: string };
export type MarkPolicyFailedArgs = JobScript & { plan: string; policy: string };
export type FinishArgs = JobScript & {
  nowMs: number;
  jobStatus: string;
  stackStatus: string;
  outputs: string;
  result: string;
  error: string;
  retentionSeconds: number;
  plan: string;
  drift: string;
  driftResources: string;
};
// A migration's own arguments (the batch's are added: see includes/migrate-batch.lua).
export type MigrationArgs = {
  'migrate-templates': { template: string };
  'migrate-drift': Record<string, never>;
  'migrate-deleted': { retentionSeconds: number; nowMs: number };
  'migrate-projects': Record<string, never>;
  'migrate-webhook-projects': Record<string, never>;
  'migrate-history': Record<string, never>;
};
export type MigrationName = keyof MigrationArgs;
type Migration<N extends MigrationName> = MigrationArgs[N] & { after: string; batch: number; version: number };

export type DiscardArgs = JobScript & { stackId: string };
export type ForgetDeletedArgs = { nowMs: number; batch: number };
// A script that takes nothing but the key prefix.
export type NoArgs = Record<string, never>;
export type CreateProjectArgs = {
  name: string;
  description: string;
  maxStacks?: number | undefined;
  maxRunningJobs?: number | undefined;
  now: string;
} & Audit;
export type DeleteProjectArgs = { name: string } & Audit;
export type CreateTokenArgs = { id: string; name: string; expiresMs: string; project: string } & Fields & Audit;
export type VerifyTokenArgs = { nowMs: number; resolution: number };
export type RevokeTokenArgs = { id: string; project: string } & Audit;
// `fields`: a record, or the changes to one: field, value, field, value, ...
type Fields = { fields: string[] };
export type CreatePolicyArgs = { member: string; project: string; limit: number } & Fields & Audit;
// `target`: what the record is, and the audit entry names.
export type UpdateRecordArgs = { target: 'policy' | 'webhook' } & Fields & Audit;
export type DeletePolicyArgs = { member: string } & Audit;
export type CreateWebhookArgs = {
  limit: number;
  projectLimit: number;
  member: string;
  project: string;
} & Fields &
  Audit;
export type RecordDeliveryArgs = { member: string; retentionSeconds: number } & Fields & Audit;
export type AdmitDeliveryArgs = { deliveryId: string; nowMs: number; trialMs: number };
export type RecordCircuitArgs = {
  result: 'success' | 'failure';
  nowMs: number;
  now: string;
  threshold: number;
  windowMs: number;
  openMs: number;
  openUntil: string;
  error: string;
};
export type CancelArgs = JobScript & { nowMs: number; error: string; retentionSeconds: number } & Audit;

export type ScriptArgs = {
  create: CreateArgs;
  'request-delete': RequestDeleteArgs;
  'request-retry': RequestRetryArgs;
  'request-plan': RequestPlanArgs;
  'request-update': RequestUpdateArgs;
  'mark-planned': MarkPlannedArgs;
  approve: ApproveArgs;
  'discard-plan': DiscardPlanArgs;
  cancel: CancelArgs;
  'mark-running': MarkRunningArgs;
  requeue: RequeueArgs;
  finish: FinishArgs;
  discard: DiscardArgs;
  'forget-deleted': ForgetDeletedArgs;
  'create-project': CreateProjectArgs;
  'delete-project': DeleteProjectArgs;
  'create-webhook': CreateWebhookArgs;
  'record-delivery': RecordDeliveryArgs;
  'admit-delivery': AdmitDeliveryArgs;
  'record-circuit': RecordCircuitArgs;
  'create-token': CreateTokenArgs;
  'verify-token': VerifyTokenArgs;
  'list-tokens': NoArgs;
  'revoke-token': RevokeTokenArgs;
  'revoke-project-tokens': NoArgs;
  'create-policy': CreatePolicyArgs;
  'update-record': UpdateRecordArgs;
  'delete-policy': DeletePolicyArgs;
  override: OverrideArgs;
  'mark-policy-failed': MarkPolicyFailedArgs;
  'migrate-templates': Migration<'migrate-templates'>;
  'migrate-drift': Migration<'migrate-drift'>;
  'migrate-deleted': Migration<'migrate-deleted'>;
  'migrate-projects': Migration<'migrate-projects'>;
  'migrate-webhook-projects': Migration<'migrate-webhook-projects'>;
  'migrate-history': Migration<'migrate-history'>;
};
export type ScriptName = keyof ScriptArgs;
