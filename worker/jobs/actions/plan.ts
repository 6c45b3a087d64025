// A speculative plan: `terraform plan` with the stack's inputs, nothing
// saved, the stack left as it is. The plan goes on the job's record, with
// the verdict of the policies that apply to plans (recorded, never enforced).
import { driftFinding } from '../../../core/lifecycle/index.ts';
import type { ActionContext, ActionSuccess } from './action.ts';
import { enforcePolicies } from './enforce-policies.ts';
import { existingStateLineage } from './existing-state.ts';

export async function plan(context: ActionContext): Promise<ActionSuccess> {
  const { terraform, log } = context;
  await existingStateLineage(context, 'plan against');
  // With policies, the plan is saved (only here, never applied) for them to read.
  const planned = context.gate ? (await terraform.planOut(context.planFile)).plan : await terraform.plan();
  await enforcePolicies(context, planned);
  log(
    planned.drift.length > 0
      ? `Changed outside Terraform: ${planned.drift.map((c) => `${c.address} (${c.action})`).join(', ')}.`
      : 'No changes outside Terraform.',
  );
  return {
    // A plan job is not its stack's current job: the store leaves the stack's status alone.
    stackStatus: 'ready',
    outputs: undefined,
    result: { changes: { add: planned.add, change: planned.change, remove: planned.destroy } },
    plan: planned,
    drift: driftFinding(planned),
  };
}
