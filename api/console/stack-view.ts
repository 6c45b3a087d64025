// What a stack's page shows to a principal: the stack (sensitive inputs left
// out, `latest_version` added), what the principal's role lets it do, the
// update waiting for approval, and a page of the job history. The page and
// its live updates (pages/events.ts) are rendered from this one view.
import { allows, type Principal, roleIn } from '../../core/access/roles.ts';
import { withLatestVersion } from '../../core/lifecycle/index.ts';
import type { Job, Stack } from '../../core/schemas/index.ts';
import type { UseCaseDeps } from '../wait.ts';

const HISTORY_PAGE = 20;

export type StackView = {
  stack: Stack;
  can: Record<'plan' | 'write', boolean>;
  // The stack's current job while it waits for an approval or an override.
  waiting: Job | null;
  jobs: Job[];
  jobsCursor: string | undefined;
  olderJobs: string | null;
};

export async function stackView(
  deps: Pick<UseCaseDeps, 'store' | 'catalogue'>,
  principal: Principal,
  stack: Stack,
  jobsCursor?: string,
): Promise<StackView> {
  const waits = stack.job.status === 'planned' || stack.job.status === 'policy_failed';
  const [history, waiting] = await Promise.all([
    deps.store.jobs.history(stack.id, { limit: HISTORY_PAGE, cursor: jobsCursor }),
    waits ? deps.store.jobs.get(stack.job.id) : null,
  ]);
  const role = roleIn(principal, stack.project);
  return {
    stack: shownStack(deps, stack),
    can: { plan: allows(role, 'plan'), write: allows(role, 'write') },
    waiting,
    jobs: history.items,
    jobsCursor,
    olderJobs: history.nextCursor,
  };
}

function shownStack(deps: Pick<UseCaseDeps, 'catalogue'>, stack: Stack): Stack {
  const template = deps.catalogue.get(stack.template.name);
  const sensitive = new Set(template?.inputs.filter((input) => input.sensitive).map((input) => input.name));
  const inputs = Object.fromEntries(Object.entries(stack.inputs).filter(([name]) => !sensitive.has(name)));
  return { ...(template ? withLatestVersion(stack, template) : stack), inputs };
}
