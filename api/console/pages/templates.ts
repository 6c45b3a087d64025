// The catalogue and the create form, generated from a template's inputs.
// The form is answered by the REST create's use case (createStack) after
// the same project check (targetProject); a 400 is shown at its fields,
// with what was typed kept.
import { type Request, type Response, Router } from 'express';
import { allows, roleIn, seesEveryProject } from '../../../core/access/roles.ts';
import { AppError, type FieldError } from '../../../core/errors.ts';
import { createStack } from '../../../core/lifecycle/index.ts';
import type { Template } from '../../../core/templates/index.ts';
import { targetProject } from '../../access.ts';
import { principalOf } from '../../principal.ts';
import { auditOf } from '../../audit.ts';
import { parseOrThrow } from '../../validate.ts';
import type { LifecycleDeps } from '../../../core/lifecycle/index.ts';
import type { UseCaseDeps } from '../../wait.ts';
import { bodyOf, fieldsOf, type FormBody } from '../form.ts';
import { UI } from '../router.ts';
import { sendPage } from '../views.ts';

export function templatePages(deps: LifecycleDeps & Pick<UseCaseDeps, 'maxLiveStacksPerToken'>): Router {
  const router = Router();
  const templateNamed = (name: unknown): Template => {
    const template = typeof name === 'string' ? deps.catalogue.get(name) : undefined;
    if (!template) throw new AppError('template-not-found', `no template named ${String(name)}`);
    return template;
  };

  router.get('/templates', (req, res) => {
    sendPage(res, 'templates', {
      title: 'Templates',
      templates: deps.catalogue.list(),
      mayCreate: projectsToCreateIn(req).length > 0,
    });
  });

  async function form(
    req: Request,
    res: Response,
    template: Template,
    options: { typed?: FormBody; errors?: FieldError[] } = {},
    status = 200,
  ) {
    const projects = projectsToCreateIn(req);
    if (projects.length === 0)
      throw new AppError(
        'insufficient-role',
        `creating a stack needs the write role in a project; "${principalOf(req).name}" has it in none`,
      );
    const fields = fieldsOf(template, {}, options);
    const project = typeof options.typed?.project === 'string' ? options.typed.project : projects[0];
    sendPage(
      res,
      'stack-form',
      {
        title: `New ${template.name} stack`,
        heading: `New ${template.name} stack`,
        action: `${UI}/templates/${template.name}/new`,
        button: 'Create',
        fields,
        errors: options.errors ?? [],
        template,
        projects,
        project,
      },
      status,
    );
  }

  router.get('/templates/:name/new', async (req, res) => {
    await form(req, res, templateNamed(req.params.name));
  });

  router.post('/templates/:name/new', async (req, res) => {
    const template = templateNamed(req.params.name);
    const typed = req.body as FormBody;
    const { values, errors } = bodyOf(template, typed);
    if (typed._add !== undefined || errors.length > 0)
      return form(req, res, template, { typed, errors }, errors.length > 0 ? 400 : 200);
    const project = targetProject(
      req,
      typeof typed.project === 'string' && typed.project !== '' ? typed.project : undefined,
      'write',
    );
    try {
      const inputs = parseOrThrow(template.inputsSchema, values, 'body') as Record<string, unknown>;
      const { stack } = await createStack(
        deps,
        principalOf(req),
        project,
        template,
        { inputs, ttl: undefined },
        undefined,
        auditOf(req),
      );
      res.redirect(303, `${UI}/stacks/${stack.id}`);
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      await form(req, res, template, { typed, errors: error.errors ?? [{ path: '', message: error.message }] }, 400);
    }
  });
  return router;
}

// The projects the principal may create in (write or above); those who see
// every project create in the default one unless they name another.
function projectsToCreateIn(req: Request): string[] {
  const principal = principalOf(req);
  const granted = [...principal.grants.keys()].filter((project) => allows(roleIn(principal, project), 'write'));
  return seesEveryProject(principal) && allows(roleIn(principal, 'default'), 'write')
    ? ['default', ...granted.filter((p) => p !== 'default')]
    : granted;
}
