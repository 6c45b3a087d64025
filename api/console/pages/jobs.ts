// A job's page: its status, plan (with Approve and Discard while it waits),
// result or error, policy results when it has them, and Terraform's log,
// shown as far as it goes and then followed live over SSE from that byte
// offset (an EventSource resumes from its Last-Event-ID when it reconnects).
// Colour codes are stripped; each line is escaped by the view engine.
import { stripVTControlCharacters } from 'node:util';
import { Router } from 'express';
import { allows, roleIn } from '../../../core/access/roles.ts';
import { approvePlan, discardPlan } from '../../../core/lifecycle/index.ts';
import type { LifecycleDeps } from '../../../core/lifecycle/index.ts';
import { jobFor } from '../../access.ts';
import { principalOf } from '../../principal.ts';
import { auditOf } from '../../audit.ts';
import { streamLog } from '../../log-stream.ts';
import { requireId } from '../../problems.ts';
import { isJobFinished, type UseCaseDeps } from '../../wait.ts';
import { UI } from '../router.ts';
import { renderView, sendPage } from '../views.ts';

const LINE_BREAK = /\r\n|\r|\n/;

export function jobPages(deps: LifecycleDeps & Pick<UseCaseDeps, 'waiter'> & { shutdown: AbortSignal }): Router {
  const router = Router();

  router.get('/jobs/:id', async (req, res) => {
    const job = await jobFor(deps, req, requireId(req.params.id), 'read');
    const mayApprove = allows(roleIn(principalOf(req), job.project), 'write');
    // htmx asks for the status alone while the job runs; 286 stops it asking.
    if (req.get('hx-request'))
      return void res
        .status(isJobFinished(job.status) ? 286 : 200)
        .type('html')
        .send(renderView('job-status', { ...res.locals.page, job, mayApprove }));
    const log = await deps.store.logs.get(job.id);
    sendPage(res, 'job', {
      title: `Job ${job.id}`,
      job,
      mayApprove,
      log: stripVTControlCharacters(log),
      offset: Buffer.byteLength(log),
    });
  });

  router.get('/jobs/:id/log', async (req, res) => {
    const job = await jobFor(deps, req, requireId(req.params.id), 'read');
    const from = Number(req.query.offset);
    await streamLog(deps, req, res, job.id, {
      from: Number.isSafeInteger(from) && from > 0 ? from : 0,
      // One empty data line: each data line adds its line break and
      // EventSource drops the last, so each part is appended ending in its
      // own line break (two gave a blank line wherever parts met).
      lines: (text) => [
        ...renderView('log-lines', {
          lines: text.split(LINE_BREAK).map((line) => stripVTControlCharacters(line)),
        }).split('\n'),
        '',
      ],
    });
  });

  router.post('/jobs/:id/approve', async (req, res) => {
    const job = await jobFor(deps, req, requireId(req.params.id), 'write');
    await approvePlan(deps, job.id, auditOf(req));
    res.redirect(303, `${UI}/jobs/${job.id}`);
  });

  router.post('/jobs/:id/discard', async (req, res) => {
    const job = await jobFor(deps, req, requireId(req.params.id), 'write');
    await discardPlan(deps, job.id, auditOf(req));
    res.redirect(303, `${UI}/jobs/${job.id}`);
  });
  return router;
}
