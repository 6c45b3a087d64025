// What a job does once its plan is saved, by the policies that apply to it
// (see ../policy-gate.ts): go on and apply it (none apply, all passed, or
// only advisory ones failed), wait `policy_failed` with the plan kept beside
// the state for an override (a soft-mandatory one failed), or fail with
// nothing applied (a hard-mandatory one failed).
import { readFile } from 'node:fs/promises';
import type { Plan } from '../../../core/schemas/index.ts';
import { JobFailure } from '../../job-failure.ts';
import { evaluateGate, policyFailure } from '../policy-gate.ts';
import type { ActionContext, ActionSuccess } from './action.ts';

const NOTHING = { add: 0, change: 0, remove: 0 };

// undefined: apply the plan in `planFile`; a success that is `parked`: the
// job waits. Throws for a hard-mandatory failure.
export async function enforcePolicies(context: ActionContext, plan: Plan): Promise<ActionSuccess | undefined> {
  const { gate, terraform, store, data, planFile, s3State, log } = context;
  if (!gate) return undefined;
  const shown = await terraform.showPlan(planFile).catch((error: unknown) => {
    throw JobFailure.beforeAnyChange(error);
  });
  const policy = await evaluateGate(store, gate, shown, plan, log);
  if (policy.status !== 'failed' || data.action === 'plan') {
    // A speculative plan applies nothing: its verdict is only recorded.
    await store.jobs.setPolicy(data.jobId, policy);
    return undefined;
  }
  if (policy.results.some((result) => !result.passed && result.enforcement === 'hard-mandatory')) {
    await store.jobs.setPolicy(data.jobId, policy);
    throw JobFailure.beforeAnyChange(policyFailure(policy));
  }
  if (!s3State) {
    throw JobFailure.beforeAnyChange(
      JobFailure.permanent(
        'saved-plan-unavailable',
        'a soft-mandatory policy failed, and a job that waits for an override keeps its saved plan ' +
          "beside the state, in the S3 backend's bucket, which this worker cannot reach directly " +
          '(STATE_DIRECT_ACCESS=off); nothing was applied',
      ),
    );
  }
  await s3State.putPlan(data.stackId, data.jobId, await readFile(planFile));
  const marked = await store.jobs.markPolicyFailed(data.stackId, data.jobId, plan, policy);
  if (marked.outcome !== 'policy_failed') {
    await s3State.deletePlan(data.stackId, data.jobId).catch(() => undefined);
    throw JobFailure.permanent(
      'cancelled',
      `the job ended (${marked.status || 'gone'}) while its policies were evaluated; nothing was applied`,
    );
  }
  log(
    'A soft-mandatory policy failed; nothing was applied. Plan saved: an admin of the project may POST ' +
      `/api/jobs/${data.jobId}/override with a reason to apply it, or /discard it.`,
  );
  return { stackStatus: 'ready', outputs: undefined, result: { changes: NOTHING }, plan, parked: 'policy_failed' };
}
