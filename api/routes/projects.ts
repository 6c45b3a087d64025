// /api/projects: the tenant boundary. Owners make and remove projects; an
// admin of a project changes its description and quota; anyone with a role
// in a project sees it, and no one else learns that it exists.
import { roleIn, seesEveryProject } from '../../core/access/roles.ts';
import { AppError, projectNotFound } from '../../core/errors.ts';
import {
  Project,
  ProjectCreateRequest,
  ProjectList,
  ProjectParams,
  ProjectUpdateRequest,
} from '../../core/schemas/index.ts';
import { noted, type Store } from '../../core/store/index.ts';
import { requireRole } from '../access.ts';
import { principalOf } from '../principal.ts';
import { auditOf } from '../audit.ts';
import { json, problem, type Route, route } from '../route.ts';
import { unavailable, belowAdmin } from './common.ts';

const TAG = 'projects';
const notOwner = problem('The caller is not an owner (`insufficient-role`).');
const badName = problem('Invalid name.');
const notFound = problem('No such project, or none the caller has a role in: both answer alike (`project-not-found`).');

const missing = (name: string) => () => projectNotFound(name);

export function projectRoutes(deps: { store: Store }): Route[] {
  const { store } = deps;
  async function found(name: string): Promise<Project> {
    const project = await store.projects.get(name);
    if (!project) throw missing(name)();
    return project;
  }
  return [
    route({
      method: 'post',
      path: '/api/projects',
      operationId: 'createProject',
      audit: { action: 'project.create', target: 'project' },
      tags: [TAG],
      summary: 'Create a project',
      description:
        'Owners only. Stacks, jobs and tokens then belong to it; grants name it (API_TOKENS `ROLE@PROJECT`, ' +
        'OIDC_BINDINGS, tokens made through the API).',
      request: { body: { required: true, content: { 'application/json': { schema: ProjectCreateRequest } } } },
      responses: {
        201: json('The project.', Project),
        400: problem('Invalid name, description or quota.'),
        403: notOwner,
        409: problem('A project of that name exists (`project-exists`).'),
        503: unavailable,
      },
      authorize(req) {
        const principal = principalOf(req);
        if (!principal.owner) {
          throw new AppError(
            'insufficient-role',
            `creating a project needs the owner role; "${principal.name}" is not an owner`,
          );
        }
      },
      async handle(req, res, { body }) {
        const audit = noted(auditOf(req), 'project.create');
        if (!(await store.projects.create(body.name, body.description, body.quota, audit))) {
          throw new AppError('project-exists', `a project named "${body.name}" exists`);
        }
        const project = await found(body.name);
        res.status(201).location(project.href).json(project);
      },
    }),
    route({
      method: 'get',
      path: '/api/projects',
      operationId: 'listProjects',
      tags: [TAG],
      summary: 'List the projects the caller has a role in',
      description:
        'Every project for an owner (or a token with a role on every project); otherwise those the caller has a role ' +
        'in.',
      responses: { 200: json('The projects, by name.', ProjectList), 503: unavailable },
      async handle(req, res) {
        const principal = principalOf(req);
        const names = seesEveryProject(principal) ? await store.projects.names() : [...principal.grants.keys()].sort();
        res.json({ items: await store.projects.getMany(names) });
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/{project}',
      operationId: 'getProject',
      tags: [TAG],
      summary: 'Get a project',
      description: 'Its description, quota and number of live stacks.',
      request: { params: ProjectParams },
      responses: { 200: json('The project.', Project), 400: badName, 404: notFound, 503: unavailable },
      async handle(req, res, { params: { project: name } }) {
        requireRole(principalOf(req), name, 'read', missing(name));
        res.json(await found(name));
      },
    }),
    route({
      method: 'patch',
      path: '/api/projects/{project}',
      operationId: 'updateProject',
      audit: { action: 'project.update', target: 'project', param: 'project' },
      tags: [TAG],
      summary: 'Change a project',
      description:
        'Admins of the project: its description, and its quota (replaced whole: a limit left out is lifted).',
      request: {
        params: ProjectParams,
        body: { required: true, content: { 'application/json': { schema: ProjectUpdateRequest } } },
      },
      responses: {
        200: json('The project.', Project),
        400: problem('Invalid name or body.'),
        403: belowAdmin,
        404: notFound,
        503: unavailable,
      },
      authorize: (req, { params }) => requireRole(principalOf(req), params.project, 'admin', missing(params.project)),
      async handle(req, res, { params: { project: name }, body }) {
        if (!(await store.projects.update(name, body, noted(auditOf(req), 'project.update')))) throw missing(name)();
        res.json(await found(name));
      },
    }),
    route({
      method: 'delete',
      path: '/api/projects/{project}',
      operationId: 'deleteProject',
      audit: { action: 'project.delete', target: 'project', param: 'project' },
      tags: [TAG],
      summary: 'Delete an empty project',
      description:
        'Owners only, and only a project with no live stacks and no webhooks. Its tokens are revoked. The default ' +
        'project stays.',
      request: { params: ProjectParams },
      responses: {
        204: { description: 'Deleted.' },
        400: badName,
        403: notOwner,
        404: notFound,
        409: problem('The project holds live stacks or webhooks, or is the default project (`project-not-empty`).'),
        503: unavailable,
      },
      async handle(req, res, { params: { project: name } }) {
        const principal = principalOf(req);
        const role = roleIn(principal, name);
        if (role === undefined) throw missing(name)();
        if (!principal.owner)
          throw new AppError(
            'insufficient-role',
            `deleting a project needs the owner role; "${principal.name}" has ${role} in it`,
          );
        const outcome = await store.projects.delete(name, noted(auditOf(req), 'project.delete'));
        if (outcome.outcome === 'missing') throw missing(name)();
        if (outcome.outcome === 'default')
          throw new AppError(
            'project-not-empty',
            'the default project always exists: stacks that name no project go there',
          );
        if (outcome.outcome === 'not-empty')
          throw new AppError(
            'project-not-empty',
            `project "${name}" holds ${outcome.liveStacks} live stacks and ${outcome.webhooks} webhooks; delete them ` +
              `first`,
          );
        // A project made again under this name must not find these working.
        await store.tokens.revokeAll(name);
        res.status(204).end();
      },
    }),
  ];
}
