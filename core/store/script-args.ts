// What each Lua script (lua/) is given besides its keys and the key prefix:
// one object, packed as JSON into ARGV[2] and decoded by the script into a
// table of the same field names. A script still on positional ARGV takes a
// `Positional` list instead (ARGV[2] onward).
import type { AuditRecord } from './audit.ts';

export type Positional = ReadonlyArray<string | number>;

// JSON-encoded values (inputs, errors, plans) stay strings: a script writes
// them into a record as they are. `audit`: absent for a change no user asked for.
type Audit = { audit?: AuditRecord | undefined };
// What every script about one job of a stack is given (lua/includes/job-script.lua).
type JobScript = { jobId: string; now: string };
type NewJob = JobScript & { nowMs: number; maxAttempts: number; templateVersion: string } & Audit;

export type CreateArgs = {
  resourceId: string;
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
export type CancelArgs = JobScript & { nowMs: number; error: string; retentionSeconds: number } & Audit;

export type ScriptArgs = {
  create: CreateArgs;
  'request-delete': RequestDeleteArgs;
  'request-retry': RequestRetryArgs;
  'request-plan': RequestPlanArgs;
  'request-update': RequestUpdateArgs;
  'mark-planned': Positional;
  approve: ApproveArgs;
  'discard-plan': DiscardPlanArgs;
  cancel: CancelArgs;
  'mark-running': Positional;
  requeue: Positional;
  finish: Positional;
  discard: Positional;
  'forget-deleted': Positional;
  'migrate-templates': Positional;
  'migrate-drift': Positional;
  'migrate-deleted': Positional;
  'migrate-projects': Positional;
  'migrate-webhook-projects': Positional;
  'migrate-history': Positional;
  'create-project': Positional;
  'delete-project': Positional;
  'create-webhook': Positional;
  'update-webhook': Positional;
  'record-delivery': Positional;
  'admit-delivery': Positional;
  'record-circuit': Positional;
  'create-token': Positional;
  'verify-token': Positional;
  'list-tokens': Positional;
  'revoke-token': Positional;
  'revoke-project-tokens': Positional;
  'create-policy': Positional;
  'update-policy': Positional;
  'delete-policy': Positional;
  override: OverrideArgs;
  'mark-policy-failed': Positional;
};
export type ScriptName = keyof ScriptArgs;
