// For the actions that work on a stack's existing workspace (plan, update):
// under our lock, Terraform would not say that the workspace is missing until
// it had made one, so its state is read in S3 first. Returns the state's
// lineage (undefined when the state is Terraform's to read).
import { JobFailure } from '../../job-failure.ts';
import type { ActionContext } from './action.ts';

export async function existingStateLineage(
  { data, s3State, holdsLock }: ActionContext,
  what: string,
): Promise<string | undefined> {
  const state = holdsLock && s3State ? await s3State.inspect(data.stackId) : undefined;
  if (state?.exists === false)
    throw JobFailure.permanent(
      'workspace-missing',
      `workspace ${data.stackId} has no state in S3; there is nothing to ${what}`,
    );
  return state?.exists ? state.lineage : undefined;
}
