// The console's token pages: a project's live tokens, the form that makes
// one, and Revoke. The same check (tokenProject) and use cases as
// /api/projects/{project}/tokens. The secret is in the answer to the create
// alone, marked not to be stored; no later page has it, and the server
// keeps only its digest.
import { type Request, type Response, Router } from 'express';
import { createToken, listTokens, revokeToken } from '../../../core/access/managed-tokens.ts';
import { allows, DEFAULT_PROJECT, ROLES, roleIn } from '../../../core/access/roles.ts';
import { AppError, type FieldError } from '../../../core/errors.ts';
import { TokenCreateRequest, TokenId } from '../../../core/schemas/index.ts';
import type { Store } from '../../../core/store/index.ts';
import { principalOf } from '../../principal.ts';
import { auditOf } from '../../audit.ts';
import { tokenProject } from '../../routes/tokens.ts';
import { parseOrThrow } from '../../validate.ts';
import { UI } from '../router.ts';
import { sendPage } from '../views.ts';
import { adminProjects, auditing, filled } from './admin-common.ts';

type Typed = { name: string; role: string; expires_in: string };
const EMPTY: Typed = { name: '', role: 'read', expires_in: '' };

export function tokenPages(deps: { store: Store }): Router {
  const router = Router();

  async function tokensPage(
    req: Request,
    res: Response,
    project: string,
    form: { typed?: Typed; errors?: FieldError[] } = {},
    status = 200,
  ) {
    const [projects, { items }] = await Promise.all([
      adminProjects(deps.store, principalOf(req), 'Tokens'),
      listTokens(deps.store.tokens, project),
    ]);
    const revoked = typeof req.query.revoked === 'string' ? req.query.revoked : undefined;
    sendPage(
      res,
      'tokens',
      {
        title: `Tokens of ${project}`,
        project,
        projects,
        tokens: items,
        roles: ROLES,
        typed: form.typed ?? EMPTY,
        errors: form.errors ?? [],
        revoked,
      },
      status,
    );
  }

  // Without ?project=, the default project, or the first the principal administers.
  router.get('/tokens', async (req, res) => {
    const principal = principalOf(req);
    const mine = () =>
      allows(roleIn(principal, DEFAULT_PROJECT), 'admin')
        ? DEFAULT_PROJECT
        : adminProjects(deps.store, principal, 'Tokens').then((projects) => projects[0]);
    const named = filled(req.query, ['project']).project ?? (await mine());
    await tokensPage(req, res, await tokenProject(deps.store, principal, named));
  });

  router.post('/projects/:project/tokens', async (req, res) => {
    auditing(req, 'token.create', { type: 'token', id: null });
    const project = await tokenProject(deps.store, principalOf(req), req.params.project);
    const form = req.body as Record<string, unknown>;
    const typed: Typed = { name: text(form.name), role: text(form.role), expires_in: text(form.expires_in).trim() };
    try {
      const body = parseOrThrow(
        TokenCreateRequest,
        { name: typed.name, role: typed.role, ...(typed.expires_in ? { expires_in: typed.expires_in } : {}) },
        'body',
      );
      const made = await createToken(deps.store.tokens, principalOf(req), project, body, auditOf(req));
      // The one answer with the secret: no cache, no back-button copy.
      res.set('Cache-Control', 'no-store');
      sendPage(res, 'token-made', { title: `Token ${made.name} made`, made }, 201);
    } catch (error) {
      if (!(error instanceof AppError) || (error.status !== 400 && error.code !== 'token-name-taken')) throw error;
      const errors =
        error.code === 'token-name-taken'
          ? [{ path: 'name', message: error.message }]
          : (error.errors ?? [{ path: 'body', message: error.message }]);
      await tokensPage(req, res, project, { typed, errors }, error.status);
    }
  });

  router.post('/projects/:project/tokens/:tokenId/revoke', async (req, res) => {
    auditing(req, 'token.revoke', { type: 'token', id: req.params.tokenId ?? null });
    const project = await tokenProject(deps.store, principalOf(req), req.params.project);
    const id = TokenId.safeParse(req.params.tokenId);
    if (!id.success) throw new AppError('invalid-id', 'token ids are "t" and 15 characters of 0-9 and a-z');
    await revokeToken(deps.store.tokens, project, id.data, auditOf(req));
    res.redirect(303, `${UI}/tokens?project=${project}&revoked=${id.data}`);
  });
  return router;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
