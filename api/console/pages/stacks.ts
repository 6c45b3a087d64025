// The console's stack pages: the table of the stacks the principal may read
// (filters, paging; its rows fetched again when events.ts says a stack
// changed), a stack with its inputs, outputs, drift and job history (kept
// live by events.ts), and its actions: Plan, Change, Approve and Discard of
// a waiting update, Retry, Delete. Each action is the REST route's: the same
// role check (access.ts), the same use case.
import { type Request, type Response, Router } from 'express';
import { AppError } from '../../../core/errors.ts';
import { deleteStack, planStack, retryStack, updateStack } from '../../../core/lifecycle/index.ts';
import { DRIFT_STATUSES, ListQuery, STACK_STATUSES, type Stack } from '../../../core/schemas/index.ts';
import { readableProjects, stackFor } from '../../access.ts';
import { principalOf } from '../../principal.ts';
import { auditOf } from '../../audit.ts';
import { requireId } from '../../problems.ts';
import { parseOrThrow } from '../../validate.ts';
import type { LifecycleDeps } from '../../../core/lifecycle/index.ts';
import { bodyOf, fieldsOf, type FormBody } from '../form.ts';
import { UI } from '../router.ts';
import { stackView } from '../stack-view.ts';
import { renderView, sendPage } from '../views.ts';

export function stackPages(deps: LifecycleDeps): Router {
  const router = Router();
  const templateNames = () => deps.catalogue.list().map((template) => template.name);

  async function stacksPage(req: Request) {
    const { template, ...rest } = req.query as Record<string, string | undefined>;
    const filters = Object.fromEntries(
      Object.entries(rest).filter(
        ([key, value]) => value !== '' && ['project', 'status', 'drift', 'cursor'].includes(key),
      ),
    );
    const { project, ...query } = parseOrThrow(ListQuery, filters, 'query');
    const names = template ? templateNames().filter((name) => name === template) : templateNames();
    if (names.length === 0) throw new AppError('template-not-found', `no template named ${template}`);
    const projects = readableProjects(principalOf(req), project);
    const page = await deps.store.stacks.list({ ...query, template: names, projects });
    return {
      filters: { project, template, status: query.status, drift: query.drift },
      cursor: query.cursor,
      items: page.items,
      nextCursor: page.nextCursor,
    };
  }

  router.get('/', async (req, res) => {
    const page = await stacksPage(req);
    // htmx asks for the rows alone when a stack changed (see events.ts).
    if (req.get('hx-request')) return void res.type('html').send(renderView('stack-rows', page));
    sendPage(res, 'stacks', {
      title: 'Stacks',
      ...page,
      templates: templateNames(),
      statuses: STACK_STATUSES,
      drifts: DRIFT_STATUSES,
      projects: [...principalOf(req).grants.keys()],
    });
  });

  router.get('/stacks/:id', async (req, res) => {
    const stack = await stackFor(deps, req, undefined, requireId(req.params.id), 'read');
    const jobsCursor = typeof req.query.jobs === 'string' && req.query.jobs !== '' ? req.query.jobs : undefined;
    sendPage(res, 'stack', {
      title: `Stack ${stack.id}`,
      ...(await stackView(deps, principalOf(req), stack, jobsCursor)),
    });
  });

  router.post('/stacks/:id/plan', async (req, res) => {
    const stack = await stackFor(deps, req, undefined, requireId(req.params.id), 'plan');
    const job = await planStack(deps, stack.template.name, stack.id, auditOf(req));
    res.redirect(303, `${UI}/jobs/${job.id}`);
  });

  router.post('/stacks/:id/retry', async (req, res) => {
    const stack = await stackFor(deps, req, undefined, requireId(req.params.id), 'write');
    const retried = await retryStack(deps, stack.template.name, stack.id, auditOf(req));
    res.redirect(303, `${UI}/jobs/${retried.job.id}`);
  });

  router.get('/stacks/:id/delete', async (req, res) => {
    const stack = await stackFor(deps, req, undefined, requireId(req.params.id), 'write');
    sendPage(res, 'confirm-delete', { title: `Delete stack ${stack.id}`, stack: stack });
  });

  router.post('/stacks/:id/delete', async (req, res) => {
    const stack = await stackFor(deps, req, undefined, requireId(req.params.id), 'write');
    const { stack: deleting } = await deleteStack(deps, stack.template.name, stack.id, auditOf(req));
    res.redirect(303, `${UI}/stacks/${deleting.id}`);
  });

  const changeForm = (
    res: Response,
    stack: Stack,
    options: { typed?: FormBody; errors?: AppError['errors'] } = {},
    status = 200,
  ) => {
    const template = deps.catalogue.get(stack.template.name);
    if (!template)
      throw new AppError(
        'template-not-served',
        `template "${stack.template.name}" is not served by this installation any more`,
      );
    const fields = fieldsOf(template, stack.inputs, { ...options, change: true });
    sendPage(
      res,
      'stack-form',
      {
        title: `Change stack ${stack.id}`,
        heading: `Change stack ${stack.id}`,
        action: `${UI}/stacks/${stack.id}/change`,
        button: 'Plan the change',
        fields,
        errors: options.errors ?? [],
        template,
      },
      status,
    );
  };

  router.get('/stacks/:id/change', async (req, res) => {
    changeForm(res, await stackFor(deps, req, undefined, requireId(req.params.id), 'plan'));
  });

  router.post('/stacks/:id/change', async (req, res) => {
    const stack = await stackFor(deps, req, undefined, requireId(req.params.id), 'plan');
    const form = req.body as FormBody;
    const template = deps.catalogue.get(stack.template.name);
    if (!template)
      throw new AppError(
        'template-not-served',
        `template "${stack.template.name}" is not served by this installation any more`,
      );
    const { values, errors } = bodyOf(template, form, stack.inputs);
    if (form._add !== undefined || errors.length > 0)
      return changeForm(res, stack, { typed: form, errors }, errors.length > 0 ? 400 : 200);
    try {
      const changed = await updateStack(
        deps,
        stack.template.name,
        stack.id,
        { inputs: values, autoApply: false },
        auditOf(req),
      );
      res.redirect(303, `${UI}/jobs/${changed.job.id}`);
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      changeForm(res, stack, { typed: form, errors: error.errors ?? [{ path: '', message: error.message }] }, 400);
    }
  });
  return router;
}
