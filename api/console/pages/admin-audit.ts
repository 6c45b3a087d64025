// The console's audit log: entries with their actor, action, target,
// outcome, time and request id, filtered by actor and action and paged,
// seen by whom GET /api/audit shows them to (loggedProject). An admin of
// several projects reads one at a time, the first unless another is chosen.
import { Router } from 'express';
import { AUDIT_ACTIONS, AuditQuery } from '../../../core/schemas/index.ts';
import type { Store } from '../../../core/store/index.ts';
import { administered, isInstallationAdmin } from '../../access.ts';
import { principalOf } from '../../principal.ts';
import { loggedProject } from '../../routes/audit.ts';
import { parseOrThrow } from '../../validate.ts';
import { sendPage } from '../views.ts';
import { adminProjects, filled } from './admin-common.ts';

const PAGE_SIZE = 25;

export function auditPages(deps: { store: Store }): Router {
  const router = Router();

  router.get('/audit', async (req, res) => {
    const principal = principalOf(req);
    const projects = await adminProjects(deps.store, principal, 'Audit log');
    const { project: named, ...filter } = parseOrThrow(
      AuditQuery,
      { ...filled(req.query, ['project', 'actor', 'action', 'cursor']), limit: PAGE_SIZE },
      'query',
    );
    const mine = administered(principal);
    const project = await loggedProject(
      deps.store,
      principal,
      named ?? (!isInstallationAdmin(principal) && mine.length > 1 ? mine[0] : undefined),
    );
    const page = await deps.store.audit.page({ ...filter, project });
    sendPage(res, 'audit', {
      title: 'Audit log',
      entries: page.items,
      nextCursor: page.nextCursor,
      filters: { project, actor: filter.actor, action: filter.action },
      projects,
      everything: isInstallationAdmin(principal),
      actions: AUDIT_ACTIONS,
    });
  });
  return router;
}
