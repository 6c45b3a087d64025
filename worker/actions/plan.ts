// A speculative plan: `terraform plan` with the stack's inputs, nothing
// saved, the stack left as it is. The plan goes on the job's record.
import { JobFailure } from '../job-failure.ts';
import type { ActionContext, ActionSuccess } from './action.ts';

export async function plan(context: ActionContext): Promise<ActionSuccess> {
  const { data, terraform, s3State, holdsLock, log } = context;
  // Under our lock Terraform would not say that the workspace is missing
  // until it had made one; with no state there is nothing to plan against.
  const state = holdsLock && s3State ? await s3State.inspect(data.resourceId) : undefined;
  if (state?.exists === false) throw JobFailure.permanent(`workspace ${data.resourceId} has no state in S3; there is nothing to plan against`);
  const planned = await terraform.plan();
  log(planned.drift.length > 0 ? `Changed outside Terraform: ${planned.drift.map((c) => `${c.address} (${c.action})`).join(', ')}.` : 'No changes outside Terraform.');
  return {
    // A plan job is not its stack's current job: the store leaves the stack's status alone.
    resourceStatus: 'ready',
    outputs: undefined,
    result: { changes: { add: planned.add, change: planned.change, remove: planned.destroy } },
    plan: planned,
  };
}
