// A delete: destroy what the workspace tracks, then remove the workspace.
// When policies apply to it, the destroy is planned and held to them first.
import { JobFailure } from '../../job-failure.ts';
import type { ActionContext, ActionSuccess } from './action.ts';
import { enforcePolicies } from './enforce-policies.ts';
import { applySavedPlan } from './saved-plan.ts';

export async function destroy(context: ActionContext): Promise<ActionSuccess> {
  const { data, terraform, s3State, holdsLock, log } = context;
  const workspace = data.stackId;
  let changes = { add: 0, change: 0, remove: 0 };
  // Under our lock an absent workspace has nothing to destroy, and Terraform would lock to create it.
  const state = holdsLock && s3State ? await s3State.inspect(workspace) : undefined;
  if (state?.exists === false) {
    log(`No state for workspace ${workspace} in S3; nothing to destroy.`);
  } else {
    const lineage = state?.exists ? state.lineage : undefined;
    if (data.approved) ({ changes } = await applySavedPlan(context, lineage));
    else if (!context.gate) ({ changes } = await terraform.destroy(lineage));
    else {
      // The destroy is planned, held to the policies, then exactly that plan applied.
      const { plan } = await terraform.planOut(context.planFile, { destroy: true }).catch((error: unknown) => {
        throw JobFailure.beforeAnyChange(error);
      });
      const held = await enforcePolicies(context, plan);
      if (held) return { ...held, stackStatus: 'deleting' };
      ({ changes } = await terraform.applyPlan(context.planFile, lineage));
    }
  }
  await removeWorkspace(context);
  // Plans saved for updates never applied (discarded by this delete, say).
  const plans = await s3State?.deletePlans(workspace);
  if (plans) log(`${plans} saved plan(s) of the stack removed.`);
  return { stackStatus: 'deleted', outputs: {}, result: { outputs: {}, changes } };
}

async function removeWorkspace({ data, terraform, s3State, log }: ActionContext): Promise<void> {
  const workspace = data.stackId;
  const removed = await s3State?.remove(workspace);
  if (!removed) return terraform.deleteWorkspace();
  if (removed.exists && removed.resources > 0) {
    throw JobFailure.permanent(
      'destroy-incomplete',
      `workspace ${workspace} still tracks ${removed.resources} resource(s) after destroy; it was kept`,
    );
  }
  log(removed.exists ? `Workspace "${workspace}" deleted from S3.` : `Workspace "${workspace}" had no state in S3.`);
}
