// A stack's lifecycle, one step per file: create, delete, retry, plan, cancel, and
// the end of a job. The API's routes and the workers both change stacks only
// through these.
export type { LifecycleDeps } from './deps.ts';
export { cancelJob } from './cancel.ts';
export { createStack, type CreateOutcome } from './create.ts';
export { deleteStack, requestDeletion, type DeleteOutcome } from './delete.ts';
export { APPLIED_IN_SYNC, driftFinding, withLatestVersion } from './drift.ts';
export { endJob, failedStatus } from './end-job.ts';
export { approvePlan, discardPlan, overridePolicies } from './approve.ts';
export { planStack } from './plan.ts';
export { updateStack, type StackChange } from './update.ts';
export { getJob, getStack } from './read.ts';
export { retryStack } from './retry.ts';
