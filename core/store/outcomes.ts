// What each script can answer, as named outcomes: the one place where a
// script's reply (an array whose first element names the outcome, see the
// Output section of each lua/*.lua header) becomes a typed value.
import type { JobStatus, StackStatus } from '../schemas/index.ts';

export type CreateOutcome =
  | { outcome: 'created' }
  | { outcome: 'replay'; stackId: string; fingerprint: string }
  | { outcome: 'cap'; live: number }
  | { outcome: 'no-project' }
  | { outcome: 'quota'; max: number };

export type DeleteRequest =
  | { outcome: 'created'; jobId: string; discardedJobId: string | null }
  | { outcome: 'cancelled'; jobId: string; cancelledJobId: string }
  | { outcome: 'existing'; jobId: string }
  | { outcome: 'deleted'; jobId: string }
  | { outcome: 'missing' };

export type RetryRequest =
  | { outcome: 'created'; jobId: string }
  | { outcome: 'conflict'; status: StackStatus }
  | { outcome: 'missing' };

export type PlanRequest =
  | RetryRequest
  | { outcome: 'queued'; jobId: string }
  | { outcome: 'busy' }
  | { outcome: 'exists'; headId: string };
export type UpdateRequest = RetryRequest;

export type PlannedOutcome = { outcome: 'planned' } | { outcome: 'not-running'; status: JobStatus | '' };
export type PolicyFailedOutcome = { outcome: 'policy_failed' } | { outcome: 'not-running'; status: JobStatus | '' };
export type OverrideOutcome =
  | { outcome: 'overridden' }
  | { outcome: 'conflict'; status: JobStatus }
  | { outcome: 'missing' };
export type ApproveOutcome =
  | { outcome: 'approved' }
  | { outcome: 'conflict'; status: JobStatus }
  | { outcome: 'missing' };
export type DiscardOutcome =
  | { outcome: 'discarded'; next: string | null }
  | { outcome: 'conflict'; status: JobStatus }
  | { outcome: 'missing' };

export type CancelOutcome =
  | { outcome: 'cancelled'; next: string | null }
  | { outcome: 'signalled' }
  | { outcome: 'finished'; status: JobStatus }
  | { outcome: 'missing' };

export type StartOutcome =
  | { outcome: 'running'; attempt: number }
  | { outcome: 'finished' }
  | { outcome: 'cancel-requested' }
  | { outcome: 'wait' };

export type FinishOutcome = { outcome: 'finished' | 'already-finished'; next: string | null };

export type WebhookCreate =
  | { outcome: 'created' | 'no-project' }
  | { outcome: 'limit' | 'project-limit'; count: number };

export type ProjectDelete =
  | { outcome: 'deleted' | 'missing' | 'default' }
  | { outcome: 'not-empty'; liveStacks: number; webhooks: number };

export type CircuitAdmission = { outcome: 'go' | 'trial' } | { outcome: 'wait'; untilMs: number };
export type CircuitChange =
  | { outcome: 'closed'; held: string[] }
  | { outcome: 'opened' | 'reopened'; reason: string }
  | { outcome: 'unchanged' | 'missing' };

// A token script's record fields, in lua/includes/token-fields.lua's order.
export type TokenFields = [
  id: string,
  project: string,
  name: string,
  role: string,
  createdBy: string,
  createdMs: string,
  expiresMs: string,
  lastUsedMs: string,
];
const TOKEN_FIELD_COUNT = 8;

export type TokenCreate = { outcome: 'created' } | { outcome: 'taken'; id: string };
export type TokenVerify = { outcome: 'valid'; fields: TokenFields } | { outcome: 'expired' | 'missing' };

// `changed`: the records the batch brought up to date.
export type MigrateBatch =
  | { outcome: 'more'; lastMember: string; changed: number }
  | { outcome: 'done'; changed: number };

export const parse = {
  create([outcome, a = '', b = '']: string[]): CreateOutcome {
    if (outcome === 'created') return { outcome };
    if (outcome === 'replay') return { outcome, stackId: a, fingerprint: b };
    if (outcome === 'cap') return { outcome, live: Number(a) };
    if (outcome === 'no-project') return { outcome };
    if (outcome === 'quota') return { outcome, max: Number(a) };
    return unexpected('create', outcome);
  },
  requestDelete([outcome, a = '', b = '']: string[]): DeleteRequest {
    if (outcome === 'missing') return { outcome };
    if (outcome === 'cancelled') return { outcome, jobId: a, cancelledJobId: b };
    if (outcome === 'created') return { outcome, jobId: a, discardedJobId: b || null };
    if (outcome === 'existing' || outcome === 'deleted') return { outcome, jobId: a };
    return unexpected('request-delete', outcome);
  },
  requestRetry(reply: string[]): RetryRequest {
    return jobRequest(reply) ?? unexpected('request-retry', reply[0]);
  },
  requestPlan(reply: string[]): PlanRequest {
    const [outcome, a = ''] = reply;
    if (outcome === 'queued') return { outcome, jobId: a };
    if (outcome === 'busy') return { outcome };
    if (outcome === 'exists') return { outcome, headId: a };
    return jobRequest(reply) ?? unexpected('request-plan', outcome);
  },
  requestUpdate(reply: string[]): UpdateRequest {
    return jobRequest(reply) ?? unexpected('request-update', reply[0]);
  },
  markPlanned([outcome, a = '']: string[]): PlannedOutcome {
    if (outcome === 'planned') return { outcome };
    if (outcome === 'not-running') return { outcome, status: a as JobStatus | '' };
    return unexpected('mark-planned', outcome);
  },
  markPolicyFailed([outcome, a = '']: string[]): PolicyFailedOutcome {
    if (outcome === 'policy_failed') return { outcome };
    if (outcome === 'not-running') return { outcome, status: a as JobStatus | '' };
    return unexpected('mark-policy-failed', outcome);
  },
  override([outcome, a = '']: string[]): OverrideOutcome {
    if (outcome === 'overridden' || outcome === 'missing') return { outcome };
    if (outcome === 'conflict') return { outcome, status: a as JobStatus };
    return unexpected('override', outcome);
  },
  approve([outcome, a = '']: string[]): ApproveOutcome {
    if (outcome === 'approved' || outcome === 'missing') return { outcome };
    if (outcome === 'conflict') return { outcome, status: a as JobStatus };
    return unexpected('approve', outcome);
  },
  discardPlan([outcome, a = '']: string[]): DiscardOutcome {
    if (outcome === 'missing') return { outcome };
    if (outcome === 'discarded') return { outcome, next: a || null };
    if (outcome === 'conflict') return { outcome, status: a as JobStatus };
    return unexpected('discard-plan', outcome);
  },
  cancel([outcome, a = '']: string[]): CancelOutcome {
    if (outcome === 'missing' || outcome === 'signalled') return { outcome };
    if (outcome === 'finished') return { outcome, status: a as JobStatus };
    if (outcome === 'cancelled') return { outcome, next: a || null };
    return unexpected('cancel', outcome);
  },
  markRunning([outcome, a = '']: string[]): StartOutcome {
    if (outcome === 'finished' || outcome === 'cancel-requested' || outcome === 'wait') return { outcome };
    if (outcome === 'running') return { outcome, attempt: Number(a) };
    return unexpected('mark-running', outcome);
  },
  finish([outcome, a = '']: string[]): FinishOutcome {
    if (outcome === 'finished' || outcome === 'already-finished') return { outcome, next: a || null };
    return unexpected('finish', outcome);
  },
  // Every migrate-* script answers alike.
  migrate(script: string, [outcome, a = '', b = '']: string[]): MigrateBatch {
    if (outcome === 'more') return { outcome, lastMember: a, changed: Number(b) };
    if (outcome === 'done') return { outcome, changed: Number(a) };
    return unexpected(script, outcome);
  },
  forgetDeleted([outcome, a = '']: string[]): number {
    if (outcome === 'forgotten') return Number(a);
    return unexpected('forget-deleted', outcome);
  },
  createWebhook([outcome, a = '']: string[]): WebhookCreate {
    if (outcome === 'created' || outcome === 'no-project') return { outcome };
    if (outcome === 'limit' || outcome === 'project-limit') return { outcome, count: Number(a) };
    return unexpected('create-webhook', outcome);
  },
  admitDelivery([outcome, a = '']: string[]): CircuitAdmission {
    if (outcome === 'go' || outcome === 'trial') return { outcome };
    if (outcome === 'wait') return { outcome, untilMs: Number(a) };
    return unexpected('admit-delivery', outcome);
  },
  recordCircuit([outcome, ...rest]: string[]): CircuitChange {
    if (outcome === 'closed') return { outcome, held: rest };
    if (outcome === 'opened' || outcome === 'reopened') return { outcome, reason: rest[0] ?? '' };
    if (outcome === 'unchanged' || outcome === 'missing') return { outcome };
    return unexpected('record-circuit', outcome);
  },
  createProject([outcome]: string[]): boolean {
    if (outcome === 'created' || outcome === 'exists') return outcome === 'created';
    return unexpected('create-project', outcome);
  },
  deleteProject([outcome, a = '', b = '']: string[]): ProjectDelete {
    if (outcome === 'deleted' || outcome === 'missing' || outcome === 'default') return { outcome };
    if (outcome === 'not-empty') return { outcome, liveStacks: Number(a), webhooks: Number(b) };
    return unexpected('delete-project', outcome);
  },
  createToken([outcome, a = '']: string[]): TokenCreate {
    if (outcome === 'created') return { outcome };
    if (outcome === 'taken') return { outcome, id: a };
    return unexpected('create-token', outcome);
  },
  verifyToken([outcome, ...rest]: string[]): TokenVerify {
    if (outcome === 'expired' || outcome === 'missing') return { outcome };
    if (outcome === 'valid' && rest.length === TOKEN_FIELD_COUNT) return { outcome, fields: rest as TokenFields };
    return unexpected('verify-token', outcome);
  },
  listTokens([outcome, ...rest]: string[]): TokenFields[] {
    if (outcome !== 'tokens' || rest.length % TOKEN_FIELD_COUNT !== 0) return unexpected('list-tokens', outcome);
    const records: TokenFields[] = [];
    for (let i = 0; i < rest.length; i += TOKEN_FIELD_COUNT) {
      records.push(rest.slice(i, i + TOKEN_FIELD_COUNT) as TokenFields);
    }
    return records;
  },
  done(name: string, expected: string, [outcome]: string[]): void {
    if (outcome !== expected) unexpected(name, outcome);
  },
};

// What every request for a new job of a stack may be answered
// (request-retry, request-update, request-plan), or undefined.
function jobRequest([outcome, a = '']: string[]): RetryRequest | undefined {
  if (outcome === 'missing') return { outcome };
  if (outcome === 'conflict') return { outcome, status: a as StackStatus };
  if (outcome === 'created') return { outcome, jobId: a };
  return undefined;
}

function unexpected(script: string, outcome: string | undefined): never {
  throw new Error(`unexpected reply from the ${script} script: ${outcome}`);
}
