// Whether a stack matches its configuration, as its jobs find out: a plan
// says what an apply would change now, and a succeeded apply leaves nothing
// to change. Stacks whose template changed since show the version served now.
import type { DriftFinding, Plan, Stack } from '../schemas/index.ts';
import type { Template } from '../templates/index.ts';

// The resources a plan found different: the planned changes, then the
// outside changes the refresh found that no planned change covers.
export function driftFinding(plan: Plan): DriftFinding {
  const planned = new Set(plan.resources.map((change) => change.address));
  const resources = [...plan.resources, ...plan.drift.filter((change) => !planned.has(change.address))];
  return { status: resources.length > 0 ? 'drifted' : 'in_sync', resources };
}

export const APPLIED_IN_SYNC: DriftFinding = { status: 'in_sync', resources: [] };

// The stack as users see it: with `template.latest_version` when the
// template served now is not the version the stack was last validated against.
export function withLatestVersion(stack: Stack, served: Template | undefined): Stack {
  if (!served || served.version === stack.template.version) return stack;
  return { ...stack, template: { ...stack.template, latest_version: served.version } };
}
