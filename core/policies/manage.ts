// The policies' use cases: create (its rule checked first: nothing is stored
// for a rule that does not compile, type-check or stay within the cost
// limit), read, change, delete and list. Who may do which is the API's to
// decide (api/routes/policies.ts); these only do it.
import { AppError, projectNotFound } from '../errors.ts';
import { newPolicyId } from '../ids.ts';
import type { Policy, PolicyCreateRequest, PolicyUpdateRequest } from '../schemas/index.ts';
import { type AuditContext, EVERY_PROJECT, noted, type PolicyRecord, type Store } from '../store/index.ts';
import { checkRule } from './rule.ts';

export type PolicyDeps = { store: Store };

// Policies of one project (or every-project ones): each evaluation may take
// POLICY_EVALUATION_TIMEOUT_MS, and every job of the project waits for all
// of them, so one team cannot hold the shared workers with thousands.
export const POLICY_LIMIT = 100;

export function toPolicy(record: PolicyRecord): Policy {
  return {
    id: record.id,
    name: record.name,
    description: record.description,
    enforcement: record.enforcement,
    project: record.project === EVERY_PROJECT ? null : record.project,
    templates: record.templates.length > 0 ? record.templates : null,
    actions: record.actions.length > 0 ? record.actions : null,
    rule: record.rule,
    message: record.message,
    created_by: record.createdBy,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    href: `/api/policies/${record.id}`,
  };
}

export function policyNotFound(id: string): AppError {
  return new AppError('policy-not-found', `no policy with id ${id}`);
}

// `project`: EVERY_PROJECT for every project's jobs.
export async function createPolicy(
  deps: PolicyDeps,
  audit: AuditContext,
  project: string,
  request: PolicyCreateRequest,
): Promise<Policy> {
  checkRule(request.rule);
  const now = new Date().toISOString();
  const record: PolicyRecord = {
    id: newPolicyId(),
    name: request.name,
    description: request.description ?? '',
    enforcement: request.enforcement,
    project,
    templates: request.templates ?? [],
    actions: request.actions ?? [],
    rule: request.rule,
    message: request.message,
    createdBy: audit.actor.name,
    createdAt: now,
    updatedAt: now,
  };
  const created = await deps.store.policies.create(record, POLICY_LIMIT, noted(audit, 'policy.create'));
  if (created === 'no-project') throw projectNotFound(project);
  if (created === 'limit') {
    const where =
      project === EVERY_PROJECT
        ? `there are ${POLICY_LIMIT} every-project policies`
        : `project "${project}" has ${POLICY_LIMIT} policies`;
    throw new AppError('policy-limit-reached', `${where}, the most allowed; delete one to create another`);
  }
  return toPolicy(record);
}

export async function getPolicyRecord(deps: PolicyDeps, id: string): Promise<PolicyRecord> {
  const record = await deps.store.policies.get(id);
  if (!record) throw policyNotFound(id);
  return record;
}

export async function updatePolicy(
  deps: PolicyDeps,
  audit: AuditContext,
  id: string,
  request: PolicyUpdateRequest,
): Promise<Policy> {
  if (request.rule !== undefined) checkRule(request.rule);
  const { templates, actions, ...rest } = request;
  const changes = {
    ...rest,
    ...(templates === undefined ? {} : { templates: templates ?? [] }),
    ...(actions === undefined ? {} : { actions: actions ?? [] }),
    updatedAt: new Date().toISOString(),
  };
  if ((await deps.store.policies.update(id, changes, noted(audit, 'policy.update'))) === 'missing')
    throw policyNotFound(id);
  return toPolicy(await getPolicyRecord(deps, id));
}

export async function deletePolicy(deps: PolicyDeps, audit: AuditContext, record: PolicyRecord): Promise<void> {
  if ((await deps.store.policies.delete(record, noted(audit, 'policy.delete'))) === 'missing')
    throw policyNotFound(record.id);
}

// The policies of `projects` and every project's, or every policy (undefined).
export async function listPolicies(deps: PolicyDeps, projects: readonly string[] | undefined): Promise<Policy[]> {
  const records = await deps.store.policies.list(projects === undefined ? undefined : [...projects, EVERY_PROJECT]);
  return records.map(toPolicy);
}
