// Admin pages: tokens (made, shown once, revoked), webhooks with their
// recent deliveries and Redeliver, and the audit log; each through the use
// cases and role checks of its REST route. What they share is in
// admin-common.ts.
import { Router } from 'express';
import type { Store } from '../../../core/store/index.ts';
import type { WebhookDeps } from '../../../core/webhooks/manage.ts';
import { auditPages } from './admin-audit.ts';
import { tokenPages } from './admin-tokens.ts';
import { webhookPages } from './admin-webhooks.ts';

export function adminPages(deps: { store: Store; webhooks: WebhookDeps }): Router {
  return Router().use(tokenPages(deps), webhookPages(deps.webhooks), auditPages(deps));
}
