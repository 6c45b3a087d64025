// What the admin pages (admin-tokens.ts, admin-webhooks.ts, admin-audit.ts)
// share: which projects a principal administers, the 403 that names the role
// a page needs, the audit entry a refused change gets, and a filter form's
// query.
import type { Request } from 'express';
import type { Principal } from '../../../core/access/roles.ts';
import { AppError } from '../../../core/errors.ts';
import type { AuditAction } from '../../../core/schemas/index.ts';
import type { Store } from '../../../core/store/index.ts';
import { administered, isInstallationAdmin } from '../../access.ts';
import type { AuditedRequest } from '../../audit.ts';

// The projects a page offers to choose from: every project for an
// installation admin, else those the principal is an admin of; none → the
// 403 naming the role the page needs, as the REST routes word it.
export async function adminProjects(store: Store, principal: Principal, page: string): Promise<string[]> {
  if (isInstallationAdmin(principal)) return store.projects.names();
  const mine = administered(principal);
  if (mine.length === 0)
    throw new AppError(
      'insufficient-role',
      `the ${page} page needs the admin role in a project; "${principal.name}" is an admin of none`,
    );
  return mine;
}

// What a change is, for the audit log's entry if it is refused for want of
// a role (recordDenials), as route.ts notes it for the REST route.
export function auditing(req: Request, action: AuditAction, target: { type: string; id: string | null }): void {
  const audited: AuditedRequest = { action, target };
  if (req.res) req.res.locals.audited = audited;
}

// The query's non-empty strings: a filter form sends every field, the empty ones too.
export function filled(query: Request['query'], keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    keys.flatMap((key) => (typeof query[key] === 'string' && query[key] !== '' ? [[key, query[key]]] : [])),
  );
}
