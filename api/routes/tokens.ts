// /api/projects/{project}/tokens: tokens made through the API, for CI and
// scripts. A project's admins (and owners) make, list and revoke them; a
// token's secret is shown once, and only its digest is kept.
import { createToken, listTokens, revokeToken } from '../../core/access/managed-tokens.ts';
import { projectNotFound } from '../../core/errors.ts';
import {
  ApiTokenList,
  ApiTokenWithSecret,
  ProjectParams,
  TokenCreateRequest,
  TokenId,
} from '../../core/schemas/index.ts';
import type { Principal } from '../../core/access/roles.ts';
import type { Store } from '../../core/store/index.ts';
import { projectParam, requireRole } from '../access.ts';
import { principalOf } from '../principal.ts';
import { auditOf } from '../audit.ts';
import { json, problem, type Route, route } from '../route.ts';
import { unavailable, belowAdmin } from './common.ts';

const TAG = 'projects';
const notFound = problem('No such project (or token), or none the caller has a role in: both answer alike.');
const TokenParams = ProjectParams.extend({ tokenId: TokenId });

// The project `named`, if the principal is an admin of it and it exists (the
// console's token pages ask this too).
export async function tokenProject(store: Store, principal: Principal, named: unknown): Promise<string> {
  const project = projectParam(named);
  const missing = () => projectNotFound(project);
  requireRole(principal, project, 'admin', missing);
  if (!(await store.projects.exists(project))) throw missing();
  return project;
}

export function tokenRoutes(deps: { store: Store }): Route[] {
  const { store } = deps;
  return [
    route({
      method: 'post',
      path: '/api/projects/{project}/tokens',
      operationId: 'createToken',
      tags: [TAG],
      audit: { action: 'token.create', target: 'token' },
      summary: 'Make a token',
      description:
        'A bearer token with a role in this project, for CI and scripts; the secret is in this response only. With ' +
        '`expires_in` it stops working after that long; DELETE revokes it at once on every API process.',
      request: {
        params: ProjectParams,
        body: { required: true, content: { 'application/json': { schema: TokenCreateRequest } } },
      },
      responses: {
        201: json('The token, with its secret.', ApiTokenWithSecret),
        400: problem('Invalid name, role or expires_in.'),
        403: belowAdmin,
        404: notFound,
        409: problem('The project has a live token of that name (`token-name-taken`).'),
        503: unavailable,
      },
      authorize: (req, { params }) => tokenProject(store, principalOf(req), params.project),
      async handle(req, res, { authorized: project, body }) {
        const made = await createToken(store.tokens, principalOf(req), project, body, auditOf(req));
        res.status(201).location(`/api/projects/${project}/tokens/${made.id}`).json(made);
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/{project}/tokens',
      operationId: 'listTokens',
      tags: [TAG],
      summary: "List a project's tokens",
      description: 'Without their secrets; with when each was last used.',
      request: { params: ProjectParams },
      responses: {
        200: json("The project's live tokens.", ApiTokenList),
        400: problem('Invalid project name.'),
        403: belowAdmin,
        404: notFound,
        503: unavailable,
      },
      async handle(req, res, { params }) {
        res.json(await listTokens(store.tokens, await tokenProject(store, principalOf(req), params.project)));
      },
    }),
    route({
      method: 'delete',
      path: '/api/projects/{project}/tokens/{tokenId}',
      operationId: 'revokeToken',
      tags: [TAG],
      audit: { action: 'token.revoke', target: 'token', param: 'tokenId' },
      summary: 'Revoke a token',
      description: 'The next request with it, on any API process, is 401.',
      request: { params: TokenParams },
      responses: {
        204: { description: 'Revoked.' },
        400: problem('Invalid project name or token id.'),
        403: belowAdmin,
        404: notFound,
        503: unavailable,
      },
      async handle(req, res, { params }) {
        const project = await tokenProject(store, principalOf(req), params.project);
        await revokeToken(store.tokens, project, params.tokenId, auditOf(req));
        res.status(204).end();
      },
    }),
  ];
}
