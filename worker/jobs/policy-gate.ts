// The policies on a job's plan. Before an attempt: which policies apply (its
// stack's project's and every project's, of its template and action); none
// means the job runs exactly as it would without policies. After a plan is
// saved: evaluate them on Terraform's JSON form of it, record the verdict on
// the job and count it, and say what the job does next (see
// actions/enforce-policies.ts).
import { evaluatePolicies, type PolicyInput, verdict } from '../../core/policies/evaluate.ts';
import type { JobData, JobPolicy, Plan } from '../../core/schemas/index.ts';
import { EVERY_PROJECT, type PolicyRecord, type Store } from '../../core/store/index.ts';
import { JobFailure } from '../job-failure.ts';

export type PolicyGate = {
  policies: readonly PolicyRecord[];
  // What the rules see, but the plan.
  input: Omit<PolicyInput, 'plan'>;
  timeoutMs: number;
};

// The gate of a job with at least one applicable policy; undefined without.
// A job applying a plan already evaluated (approved, overridden) has none.
export async function policyGate(store: Store, data: JobData, timeoutMs: number): Promise<PolicyGate | undefined> {
  if (data.approved) return undefined;
  const stack = await store.stacks.get(data.stackId);
  // Without its record no one can tell which policies apply: fail, never pass.
  if (!stack)
    throw JobFailure.permanent('internal', `the record of stack ${data.stackId} is gone; its policies cannot be found`);
  const policies = (await store.policies.list([stack.project, EVERY_PROJECT])).filter(
    (policy) =>
      (policy.templates.length === 0 || policy.templates.includes(data.template.name)) &&
      (policy.actions.length === 0 || policy.actions.includes(data.action)),
  );
  if (policies.length === 0) return undefined;
  // An update is held to the inputs it would apply, not those it replaces.
  const inputs = (data.action === 'update' ? await store.jobs.newInputs(data.jobId) : undefined) ?? stack.inputs;
  return {
    policies,
    input: {
      stack: {
        id: stack.id,
        project: stack.project,
        template: stack.template.name,
        inputs,
        created_by: stack.created_by,
      },
      action: data.action,
      actor: data.actor ?? { name: 'tfcompute', kind: 'system' },
    },
    timeoutMs,
  };
}

// Evaluates the gate's policies on the saved plan (`shown`: `terraform show
// -json` of it; `plan`: the plan's summary) and counts each evaluation.
export async function evaluateGate(
  store: Store,
  gate: PolicyGate,
  shown: unknown,
  plan: Plan,
  log: (text: string) => void,
): Promise<JobPolicy> {
  const input: PolicyInput = {
    ...gate.input,
    plan: {
      add: plan.add,
      change: plan.change,
      destroy: plan.destroy,
      replace: plan.replace,
      resources: plannedResources(shown),
    },
  };
  const results = await evaluatePolicies(gate.policies, input, gate.timeoutMs);
  await store.metrics.countPolicyEvaluations(
    results.map((result) => ({ policyId: result.policy.id, passed: result.passed })),
  );
  for (const result of results) {
    log(
      `Policy "${result.policy.name}" (${result.enforcement}): ` +
        `${result.passed ? 'passed' : `failed: ${result.message}`}`,
    );
  }
  return { status: verdict(results), results };
}

// The mandatory failures of a verdict, as a job's error says them.
export function policyFailure(policy: JobPolicy): JobFailure {
  const failed = policy.results.filter((result) => !result.passed && result.enforcement === 'hard-mandatory');
  const messages = failed.map((result) => `"${result.policy.name}": ${result.message}`).join('; ');
  return JobFailure.permanent('policy-failed', `a hard-mandatory policy failed, so nothing was applied: ${messages}`);
}

type ShownChange = {
  address?: unknown;
  type?: unknown;
  change?: { actions?: unknown; after?: unknown; after_sensitive?: unknown };
};

// Each stack change of a JSON plan: its address, type, action, and the
// values planned for it, sensitive ones left out (after_sensitive marks them).
function plannedResources(shown: unknown): PolicyInput['plan']['resources'] {
  const changes = (shown as { resource_changes?: ShownChange[] } | null)?.resource_changes ?? [];
  return changes.map((change) => {
    const after = withoutSensitive(change.change?.after, change.change?.after_sensitive);
    return {
      address: String(change.address ?? ''),
      type: String(change.type ?? ''),
      action: actionOf(change.change?.actions),
      after:
        typeof after === 'object' && after !== null && !Array.isArray(after) ? (after as Record<string, unknown>) : {},
    };
  });
}

// Terraform's action lists: ["create"], ["update"], ["delete"],
// ["delete","create"] or ["create","delete"] (a replacement), ["read"], ["no-op"].
function actionOf(actions: unknown): string {
  if (!Array.isArray(actions)) return 'no-op';
  if (actions.length === 2 && actions.includes('create') && actions.includes('delete')) return 'replace';
  return String(actions[0] ?? 'no-op');
}

function withoutSensitive(value: unknown, sensitive: unknown): unknown {
  if (sensitive === true) return undefined;
  if (Array.isArray(value)) {
    const marks = Array.isArray(sensitive) ? sensitive : [];
    return value.map((item, index) => withoutSensitive(item, marks[index]) ?? null);
  }
  if (typeof value === 'object' && value !== null) {
    const marks = typeof sensitive === 'object' && sensitive !== null ? (sensitive as Record<string, unknown>) : {};
    const kept: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const shown = withoutSensitive(item, marks[key]);
      if (shown !== undefined) kept[key] = shown;
    }
    return kept;
  }
  return value ?? null;
}
