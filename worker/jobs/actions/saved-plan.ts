// A job's second run, once its saved plan was approved (an update) or its
// policies overridden (any job): apply that plan, kept beside the state, and
// nothing else. Terraform refuses a saved plan whose state has changed since
// (see WorkspaceRunner.applyPlan).
import { writeFile } from 'node:fs/promises';
import { JobFailure } from '../../job-failure.ts';
import type { ApplyResult } from '../../terraform/workspace-runner.ts';
import type { ActionContext } from './action.ts';

export async function applySavedPlan(
  { data, terraform, s3State, planFile, log }: ActionContext,
  lineage: string | undefined,
): Promise<ApplyResult> {
  const workspace = data.stackId;
  const saved = await s3State?.getPlan(workspace, data.jobId);
  if (!s3State || !saved)
    throw JobFailure.permanent(
      'saved-plan-unavailable',
      'the saved plan of this job could not be found beside the state; nothing was changed',
    );
  await writeFile(planFile, saved, { mode: 0o600 });
  log('Applying the saved plan.');
  try {
    const applied = await terraform.applyPlan(planFile, lineage);
    await s3State.deletePlan(workspace, data.jobId).catch(() => undefined);
    return applied;
  } catch (error) {
    // A retry may apply the same plan (the lock was held, the backend away);
    // a plan that can never apply is removed.
    if (!JobFailure.from(error).detail.retryable)
      await s3State.deletePlan(workspace, data.jobId).catch(() => undefined);
    throw error;
  }
}
