// The console's stack pages: the table of the stacks the principal may read
// (filters, paging, statuses polled live), a stack with its inputs, outputs,
// drift and jobs, and its actions: Plan, Change, Retry, Delete. Each action
// is the REST route's: the same role check (access.ts), the same use case.
import { type Request, type Response, Router } from 'express';
import { allows, type Role, roleIn } from '../../../core/access/roles.ts';
import { AppError } from '../../../core/errors.ts';
import { deleteStack, getJob, planStack, retryStack, updateStack, withLatestVersion } from '../../../core/lifecycle/index.ts';
import { DRIFT_STATUSES, ListQuery, RESOURCE_STATUSES, type Resource } from '../../../core/schemas/index.ts';
import { principalOf, readableProjects, stackFor } from '../../access.ts';
import { auditOf } from '../../audit.ts';
import { requireId } from '../../problems.ts';
import { parseOrThrow } from '../../validate.ts';
import type { UseCaseDeps } from '../../wait.ts';
import { bodyOf, fieldsOf, type FormBody } from '../form.ts';
import { UI } from '../router.ts';
import { renderView, sendPage } from '../views.ts';

export function stackPages(deps: UseCaseDeps): Router {
  const router = Router();
  const templateNames = () => deps.catalogue.list().map((template) => template.name);

  async function stacksPage(req: Request) {
    const { template, ...rest } = req.query as Record<string, string | undefined>;
    const filters = Object.fromEntries(Object.entries(rest).filter(([key, value]) => value !== '' && ['project', 'status', 'drift', 'cursor'].includes(key)));
    const { project, ...query } = parseOrThrow(ListQuery, filters, 'query');
    const names = template ? templateNames().filter((name) => name === template) : templateNames();
    if (names.length === 0) throw new AppError('template-not-found', `no template named ${template}`);
    const projects = readableProjects(principalOf(req), project);
    const page = await deps.store.resources.list({ ...query, template: names, projects });
    return { filters: { project, template, status: query.status, drift: query.drift }, cursor: query.cursor, items: page.items, nextCursor: page.nextCursor };
  }

  router.get('/', async (req, res) => {
    const page = await stacksPage(req);
    // htmx asks for the rows alone, every few seconds: statuses change live.
    if (req.get('hx-request')) return void res.type('html').send(renderView('stack-rows', page));
    sendPage(res, 'stacks', { title: 'Stacks', ...page, templates: templateNames(), statuses: RESOURCE_STATUSES, drifts: DRIFT_STATUSES, projects: [...principalOf(req).grants.keys()] });
  });

  router.get('/stacks/:id', async (req, res) => {
    const resource = await stackFor(deps, req, undefined, requireId(req.params.id), 'read');
    const shown = shownStack(deps, resource);
    if (req.get('hx-request')) return void res.type('html').send(renderView('stack-status', { stack: shown }));
    const job = await getJob(deps, resource.job.id);
    const driftJob = resource.drift.job && resource.drift.job.id !== job.id ? await deps.store.jobs.get(resource.drift.job.id) : null;
    sendPage(res, 'stack', { title: `Stack ${resource.id}`, stack: shown, job, jobs: driftJob ? [job, driftJob] : [job], can: abilities(req, resource) });
  });

  router.post('/stacks/:id/plan', async (req, res) => {
    const resource = await stackFor(deps, req, undefined, requireId(req.params.id), 'plan');
    const job = await planStack(deps, resource.template.name, resource.id, auditOf(req));
    res.redirect(303, `${UI}/jobs/${job.id}`);
  });

  router.post('/stacks/:id/retry', async (req, res) => {
    const resource = await stackFor(deps, req, undefined, requireId(req.params.id), 'write');
    const retried = await retryStack(deps, resource.template.name, resource.id, auditOf(req));
    res.redirect(303, `${UI}/jobs/${retried.job.id}`);
  });

  router.get('/stacks/:id/delete', async (req, res) => {
    const resource = await stackFor(deps, req, undefined, requireId(req.params.id), 'write');
    sendPage(res, 'confirm-delete', { title: `Delete stack ${resource.id}`, stack: resource });
  });

  router.post('/stacks/:id/delete', async (req, res) => {
    const resource = await stackFor(deps, req, undefined, requireId(req.params.id), 'write');
    const { resource: deleting } = await deleteStack(deps, resource.template.name, resource.id, auditOf(req));
    res.redirect(303, `${UI}/stacks/${deleting.id}`);
  });

  const changeForm = (res: Response, resource: Resource, options: { typed?: FormBody; errors?: AppError['errors'] } = {}, status = 200) => {
    const template = deps.catalogue.get(resource.template.name);
    if (!template) throw new AppError('template-not-served', `template "${resource.template.name}" is not served by this installation any more`);
    const fields = fieldsOf(template, resource.inputs, { ...options, change: true });
    sendPage(res, 'stack-form', { title: `Change stack ${resource.id}`, heading: `Change stack ${resource.id}`, action: `${UI}/stacks/${resource.id}/change`, button: 'Plan the change', fields, errors: options.errors ?? [], template }, status);
  };

  router.get('/stacks/:id/change', async (req, res) => {
    changeForm(res, await stackFor(deps, req, undefined, requireId(req.params.id), 'plan'));
  });

  router.post('/stacks/:id/change', async (req, res) => {
    const resource = await stackFor(deps, req, undefined, requireId(req.params.id), 'plan');
    const form = req.body as FormBody;
    const template = deps.catalogue.get(resource.template.name);
    if (!template) throw new AppError('template-not-served', `template "${resource.template.name}" is not served by this installation any more`);
    const { values, errors } = bodyOf(template, form, resource.inputs);
    if (form._add !== undefined || errors.length > 0) return changeForm(res, resource, { typed: form, errors }, errors.length > 0 ? 400 : 200);
    try {
      const changed = await updateStack(deps, resource.template.name, resource.id, { inputs: values, autoApply: false }, auditOf(req));
      res.redirect(303, `${UI}/jobs/${changed.job.id}`);
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      changeForm(res, resource, { typed: form, errors: error.errors ?? [{ path: '', message: error.message }] }, 400);
    }
  });
  return router;
}

// What the principal may do to the stack, by its role in the stack's project.
function abilities(req: Request, resource: Resource): Record<'plan' | 'write', boolean> {
  const role = roleIn(principalOf(req), resource.project);
  const may = (needed: Role) => allows(role, needed);
  return { plan: may('plan'), write: may('write') };
}

// A stack as a page shows it: sensitive inputs left out, `latest_version` added.
function shownStack(deps: UseCaseDeps, resource: Resource): Resource {
  const template = deps.catalogue.get(resource.template.name);
  const sensitive = new Set(template?.inputs.filter((input) => input.sensitive).map((input) => input.name));
  const inputs = Object.fromEntries(Object.entries(resource.inputs).filter(([name]) => !sensitive.has(name)));
  return { ...(template ? withLatestVersion(resource, template) : resource), inputs };
}
