// What a job action (create, update, delete, plan)
// is given, and what it returns when it succeeds. It fails by throwing a
// JobFailure.
import type { DriftFinding, JobData, JobResult, Outputs, Plan, StackStatus } from '../../../core/schemas/index.ts';
import type { Store } from '../../../core/store/index.ts';
import type { S3State } from '../../terraform/s3-state.ts';
import type { PolicyGate } from '../policy-gate.ts';
import type { WorkspaceRunner } from '../../terraform/workspace-runner.ts';

export type ActionContext = {
  data: JobData;
  terraform: WorkspaceRunner;
  store: Store;
  // Direct state access for an S3 backend; undefined means Terraform commands.
  s3State: S3State | undefined;
  // Whether the worker holds the workspace's state lock itself.
  holdsLock: boolean;
  log: (text: string) => void;
  // Where this job's saved plan goes while it runs (removed after the attempt).
  planFile: string;
  // The policies that apply to the job; undefined: none (the job runs as it
  // would without policies).
  gate: PolicyGate | undefined;
};

export type ActionSuccess = {
  stackStatus: StackStatus;
  // The stack's outputs after the job; undefined keeps them as they were.
  outputs: Outputs | undefined;
  result: Omit<JobResult, 'duration_ms'>;
  // What Terraform planned, for the actions that plan.
  plan?: Plan;
  // Whether the stack now matches its configuration, when the job found out.
  drift?: DriftFinding;
  // The job now waits, and has not ended: for approval (`planned`), or for
  // an override of the policies that failed (`policy_failed`).
  parked?: 'planned' | 'policy_failed';
};

export type Action = (context: ActionContext) => Promise<ActionSuccess>;
