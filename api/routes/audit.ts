// /api/audit: the audit log. A project's admins read its entries; owners
// (and tokens that are admins of every project) read every entry, the
// installation's own and the refusals on other projects' objects included.
import { administered, isInstallationAdmin, requireRole } from '../access.ts';
import { principalOf } from '../principal.ts';
import type { Principal } from '../../core/access/roles.ts';
import { AppError, projectNotFound } from '../../core/errors.ts';
import { AuditList, AuditQuery } from '../../core/schemas/index.ts';
import type { Store } from '../../core/store/index.ts';
import { json, problem, type Route, route } from '../route.ts';
import { unavailable, noProject } from './common.ts';

export function auditRoutes(deps: { store: Store }): Route[] {
  return [
    route({
      method: 'get',
      path: '/api/audit',
      operationId: 'listAuditEntries',
      tags: ['audit'],
      summary: 'Read the audit log, newest first',
      description:
        'One entry per change (stacks, jobs, webhooks, tokens, projects) and per attempt refused for want of a role ' +
        "(403, and the 404 that hides another project's objects, which only owners see). `?project=` reads a " +
        "project's log (its admins); without it, owners read every entry, and an admin of one project that " +
        "project's. `actor` and `action` filter exactly; a filtered page reads at most 1000 entries, so it may " +
        'hold fewer than `limit` and still have a `next_cursor`. Entries are kept AUDIT_RETENTION_DAYS (default 90).',
      request: { query: AuditQuery },
      responses: {
        200: json('A page of entries.', AuditList),
        400: problem(
          'Invalid query or cursor; or no `?project=` from an admin of several projects (`project-required`).',
        ),
        403: problem('The caller is not an admin of the project, nor of any (`insufficient-role`).'),
        404: noProject,
        503: unavailable,
      },
      async handle(req, res, { query: { project: named, ...filter } }) {
        const project = await loggedProject(deps.store, principalOf(req), named);
        const page = await deps.store.audit.page({ ...filter, project });
        res.json({ items: page.items, next_cursor: page.nextCursor });
      },
    }),
  ];
}

// The project whose log the caller reads; undefined: every entry (the
// console's audit page asks this too).
export async function loggedProject(
  store: Store,
  principal: Principal,
  named: string | undefined,
): Promise<string | undefined> {
  if (named !== undefined) {
    requireRole(principal, named, 'admin', () => projectNotFound(named));
    if (!(await store.projects.exists(named))) throw projectNotFound(named);
    return named;
  }
  if (isInstallationAdmin(principal)) return undefined;
  const mine = administered(principal);
  if (mine.length === 1) return mine[0];
  if (mine.length === 0)
    throw new AppError(
      'insufficient-role',
      `the audit log is for admins of a project; "${principal.name}" is an admin of none`,
    );
  throw new AppError(
    'project-required',
    `"${principal.name}" is an admin of ${mine.length} projects (${mine.join(', ')}); name one with ?project=`,
  );
}
