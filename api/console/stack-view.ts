// What a stack's page shows to a principal: the stack (sensitive inputs left
// out, `latest_version` added), what the principal's role lets it do, the
// update waiting for approval, and a page of the job history. The page and
// its live updates (pages/events.ts) are rendered from this one view.
import { allows, type Principal, roleIn } from '../../core/access/roles.ts';
import { withLatestVersion } from '../../core/lifecycle/index.ts';
import type { Job, Resource } from '../../core/schemas/index.ts';
import type { UseCaseDeps } from '../wait.ts';

const HISTORY_PAGE = 20;

export type StackView = {
  stack: Resource;
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
  resource: Resource,
  jobsCursor?: string,
): Promise<StackView> {
  const waits = resource.job.status === 'planned' || resource.job.status === 'policy_failed';
  const [history, waiting] = await Promise.all([
    deps.store.jobs.history(resource.id, { limit: HISTORY_PAGE, cursor: jobsCursor }),
    waits ? deps.store.jobs.get(resource.job.id) : null,
  ]);
  const role = roleIn(principal, resource.project);
  return {
    stack: shownStack(deps, resource),
    can: { plan: allows(role, 'plan'), write: allows(role, 'write') },
    waiting,
    jobs: history.items,
    jobsCursor,
    olderJobs: history.nextCursor,
  };
}

function shownStack(deps: Pick<UseCaseDeps, 'catalogue'>, resource: Resource): Resource {
  const template = deps.catalogue.get(resource.template.name);
  const sensitive = new Set(template?.inputs.filter((input) => input.sensitive).map((input) => input.name));
  const inputs = Object.fromEntries(Object.entries(resource.inputs).filter(([name]) => !sensitive.has(name)));
  return { ...(template ? withLatestVersion(resource, template) : resource), inputs };
}
