// An update: plan the new inputs into a saved plan, hold it to the policies
// that apply, then apply exactly that plan: at once (auto-apply), or after
// approval, when the job runs again with `approved`. A plan that changes
// nothing finishes the job at once.
import { readFile } from 'node:fs/promises';
import { APPLIED_IN_SYNC } from '../../../core/lifecycle/index.ts';
import { JobFailure } from '../../job-failure.ts';
import type { ActionContext, ActionSuccess } from './action.ts';
import { enforcePolicies } from './enforce-policies.ts';
import { existingStateLineage } from './existing-state.ts';
import { applySavedPlan } from './saved-plan.ts';

const NOTHING = { add: 0, change: 0, remove: 0 };

export async function update(context: ActionContext): Promise<ActionSuccess> {
  const { data, terraform, s3State, store, log, planFile } = context;
  const workspace = data.stackId;
  const lineage = await existingStateLineage(context, 'update');
  if (data.approved) {
    const applied = await applySavedPlan(context, lineage);
    return { stackStatus: 'ready', outputs: applied.outputs, result: applied, drift: APPLIED_IN_SYNC };
  }

  // Nothing is applied until the plan is: a failure or a cancel before leaves the stack as it was.
  const { plan, changes } = await terraform.planOut(planFile).catch((error: unknown) => {
    throw JobFailure.beforeAnyChange(error);
  });
  const held = await enforcePolicies(context, plan);
  if (held) return held;
  if (!changes) {
    log('No changes: the stack takes the new inputs without an apply.');
    return { stackStatus: 'ready', outputs: undefined, result: { changes: NOTHING }, plan, drift: APPLIED_IN_SYNC };
  }
  if (data.autoApply) {
    const applied = await terraform.applyPlan(planFile, lineage);
    return { stackStatus: 'ready', outputs: applied.outputs, result: applied, plan, drift: APPLIED_IN_SYNC };
  }
  if (!s3State) {
    throw JobFailure.permanent(
      'saved-plan-unavailable',
      "an update that waits for approval keeps its saved plan beside the state, in the S3 backend's " +
        'bucket, and this worker cannot reach it directly (STATE_DIRECT_ACCESS=off, or a backend setting ' +
        'it does not copy); nothing was changed: send the PATCH again with "auto_apply": true',
    );
  }
  await s3State.putPlan(workspace, data.jobId, await readFile(planFile));
  const marked = await store.jobs.markPlanned(workspace, data.jobId, plan);
  if (marked.outcome !== 'planned') {
    await s3State.deletePlan(workspace, data.jobId).catch(() => undefined);
    throw JobFailure.permanent(
      'cancelled',
      `the job ended (${marked.status || 'gone'}) while it was planning; nothing was changed`,
    );
  }
  log(`Plan saved; waiting for approval: POST /api/jobs/${data.jobId}/apply to apply it, or /discard.`);
  return { stackStatus: 'updating', outputs: undefined, result: { changes: NOTHING }, plan, parked: 'planned' };
}
