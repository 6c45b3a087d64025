// A create: check that the workspace is ours to fill, make sure it exists,
// and apply. When policies apply to it, it plans first, holds the saved plan
// to them, and applies exactly that plan (at once, or once overridden).
import { APPLIED_IN_SYNC } from '../../../core/lifecycle/index.ts';
import { JobFailure, stateBackendUnavailable } from '../../job-failure.ts';
import type { S3State, WorkspaceState } from '../../terraform/s3-state.ts';
import type { ApplyResult } from '../../terraform/workspace-runner.ts';
import type { ActionContext, ActionSuccess } from './action.ts';
import { enforcePolicies } from './enforce-policies.ts';
import { applySavedPlan } from './saved-plan.ts';

export async function create(context: ActionContext): Promise<ActionSuccess> {
  const { data, terraform, s3State, holdsLock } = context;
  // A retried create runs in the workspace its first create made.
  const found = data.retry ? undefined : await ensureFreshWorkspace(context);
  // Terraform locks a workspace it creates even with -lock=false, so under our lock we create it.
  const lineage = holdsLock && s3State ? await ensureWorkspaceExists(s3State, data.stackId, found) : undefined;
  if (data.approved) return created(await applySavedPlan(context, lineage));
  // No policy applies: one apply, as before policies.
  if (!context.gate) return created(await terraform.apply(lineage));
  // Nothing is applied until the plan is: a failure or a cancel before leaves nothing made.
  const { plan } = await terraform.planOut(context.planFile).catch((error: unknown) => {
    throw JobFailure.beforeAnyChange(error);
  });
  const held = await enforcePolicies(context, plan);
  if (held) return { ...held, stackStatus: 'creating' };
  return { ...created(await terraform.applyPlan(context.planFile, lineage)), plan };
}

function created({ outputs, changes }: ApplyResult): ActionSuccess {
  return { stackStatus: 'ready', outputs, result: { outputs, changes }, drift: APPLIED_IN_SYNC };
}

// The original project's rule: a create never adopts infrastructure it did
// not make. Checked once per job, so an attempt after a crash finds its own
// resources without complaint. Returns what it found in S3, when it looked there.
async function ensureFreshWorkspace({
  data,
  terraform,
  store,
  s3State,
  log,
}: ActionContext): Promise<WorkspaceState | undefined> {
  if (await store.jobs.isWorkspaceChecked(data.jobId)) return undefined;
  const state = await s3State?.inspect(data.stackId);
  if (state) {
    log(
      state.exists
        ? `Workspace state found in S3 with ${state.resources} resource(s).`
        : 'No workspace state in S3 yet; apply creates it.',
    );
    if (state.exists && state.resources > 0) throw adoptionRefused(data.stackId, state.resources);
  } else if ((await terraform.newWorkspace()) === 'exists') {
    const addresses = await terraform.listState();
    if (addresses.length > 0) throw adoptionRefused(data.stackId, addresses.length);
  }
  await store.jobs.markWorkspaceChecked(data.jobId);
  return state;
}

// Returns the workspace state's lineage.
async function ensureWorkspaceExists(
  s3State: S3State,
  workspace: string,
  known: WorkspaceState | undefined,
): Promise<string | undefined> {
  const state = known ?? (await s3State.inspect(workspace));
  if (!state) throw stateBackendUnavailable(`could not read the state of workspace ${workspace}`, undefined);
  if (state.exists) return state.lineage;
  try {
    return await s3State.createEmptyState(workspace);
  } catch (error) {
    throw stateBackendUnavailable(`could not create workspace ${workspace}`, error);
  }
}

function adoptionRefused(workspace: string, resources: number): JobFailure {
  return JobFailure.permanent(
    'workspace-not-empty',
    `workspace ${workspace} already exists and tracks ${resources} resource(s); refusing to adopt ` +
      'infrastructure this resource did not create',
  );
}
