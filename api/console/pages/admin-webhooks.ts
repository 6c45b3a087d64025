// The console's webhook page: the webhooks the principal administers (as
// GET /api/webhooks lists them), each with its newest deliveries, and
// Redeliver on each delivery (POST .../redeliver's check and use case).
import { Router } from 'express';
import { WebhookListQuery } from '../../../core/schemas/index.ts';
import { listWebhooks, type WebhookDeps } from '../../../core/webhooks/manage.ts';
import { listDeliveries, redeliver } from '../../../core/webhooks/manage-deliveries.ts';
import { administeredProjects, administeredWebhook } from '../../access.ts';
import { principalOf } from '../../principal.ts';
import { auditOf } from '../../audit.ts';
import { deliveryIdParam } from '../../routes/webhooks.ts';
import { parseOrThrow } from '../../validate.ts';
import { UI } from '../router.ts';
import { sendPage } from '../views.ts';
import { adminProjects, auditing, filled } from './admin-common.ts';

// Deliveries shown per webhook; the REST list pages through the rest.
const RECENT = 5;

export function webhookPages(deps: WebhookDeps): Router {
  const router = Router();

  router.get('/webhooks', async (req, res) => {
    const principal = principalOf(req);
    const query = parseOrThrow(WebhookListQuery, { ...filled(req.query, ['project', 'cursor']), limit: 10 }, 'query');
    const page = await listWebhooks(deps, administeredProjects(principal, query.project), query.limit, query.cursor);
    const webhooks = await Promise.all(
      page.items.map(async (webhook) => ({
        ...webhook,
        deliveries: (await listDeliveries(deps, webhook.id, RECENT, undefined)).items,
      })),
    );
    const redelivered = typeof req.query.redelivered === 'string' ? req.query.redelivered : undefined;
    const projects = await adminProjects(deps.store, principal, 'Webhooks');
    sendPage(res, 'webhooks', {
      title: 'Webhooks',
      webhooks,
      project: query.project,
      projects,
      nextCursor: page.next_cursor,
      redelivered,
    });
  });

  router.post('/webhooks/:webhookId/deliveries/:deliveryId/redeliver', async (req, res) => {
    auditing(req, 'webhook.redeliver', { type: 'webhook', id: req.params.webhookId ?? null });
    const webhook = await administeredWebhook(deps, principalOf(req), req.params.webhookId);
    const again = await redeliver(deps, webhook.id, deliveryIdParam(req.params.deliveryId), auditOf(req));
    res.redirect(303, `${UI}/webhooks?redelivered=${again.id}#webhook-${webhook.id}`);
  });
  return router;
}
