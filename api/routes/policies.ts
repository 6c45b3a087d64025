// /api/policies: the guardrails checked on every plan. Owners (and admins of
// every project) write every-project policies; a project's admins write its
// own. Anyone with a role in a project reads the policies its jobs are held
// to; a policy of another project answers as an unknown id does.
import type { Request } from 'express';
import { AppError } from '../../core/errors.ts';
import {
  createPolicy,
  deletePolicy,
  getPolicyRecord,
  listPolicies,
  policyNotFound,
  toPolicy,
  updatePolicy,
} from '../../core/policies/manage.ts';
import {
  Policy,
  PolicyCreateRequest,
  PolicyIdParams,
  PolicyList,
  PolicyListQuery,
  PolicyUpdateRequest,
} from '../../core/schemas/index.ts';
import { EVERY_PROJECT, type PolicyRecord, type Store } from '../../core/store/index.ts';
import { readableProjects, requireRole, targetProject } from '../access.ts';
import { principalOf } from '../principal.ts';
import { auditOf } from '../audit.ts';
import { json, problem, type Route, route } from '../route.ts';
import { unavailable, noProject, noListedProject } from './common.ts';

const TAG = 'policies';
const badPolicyId = problem('The id is not valid.');
const noPolicy = problem('No policy with this id, or one of a project the caller has no role in: both answer alike.');
const notAdmin = problem(
  "The caller is not an admin of the policy's project, or, for an every-project policy, not an owner " +
    '(`insufficient-role`).',
);
const badRule = problem(
  'The body is not valid (`validation-failed`), or the rule does not compile, type-check, evaluate to a bool or stay ' +
    'within the cost limit (`invalid-policy-rule`, with the CEL error and its line and column).',
);

// The policy, if the caller may read it (`admin`: change it).
async function policyFor(
  deps: { store: Store },
  req: Request,
  id: string,
  needed: 'read' | 'admin',
): Promise<PolicyRecord> {
  const record = await getPolicyRecord(deps, id);
  const principal = principalOf(req);
  if (record.project !== EVERY_PROJECT) {
    requireRole(principal, record.project, needed, () => policyNotFound(id));
  } else if (needed === 'admin' && !principal.owner) {
    throw new AppError(
      'insufficient-role',
      `every-project policies are changed by owners; "${principal.name}" is not one`,
    );
  }
  return record;
}

export function policyRoutes(deps: { store: Store }): Route[] {
  return [
    route({
      method: 'post',
      path: '/api/policies',
      operationId: 'createPolicy',
      audit: { action: 'policy.create', target: 'policy' },
      tags: [TAG],
      summary: 'Create a policy',
      description:
        "A guardrail checked on the plan of every job it applies to (its project's, or every project's without " +
        '`project`; of its `templates` and `actions`, or all), before anything is applied. Owners create policies ' +
        "for every project or one; a project's admins for their project only. The rule is compiled and " +
        'type-checked now: one that does not compile, type-check or stay within the cost limit is refused with the ' +
        'CEL error and its position, and nothing is stored.',
      request: { body: { content: { 'application/json': { schema: PolicyCreateRequest } }, required: true } },
      responses: {
        201: json('Created.', Policy),
        400: badRule,
        403: problem(
          "Without `project`: the caller is not an owner; with it: the caller's role there is below admin " +
            '(`insufficient-role`).',
        ),
        404: noProject,
        409: problem(
          'The project (or, without `project`, every project) already has 100 policies, the most allowed ' +
            '(`policy-limit-reached`).',
        ),
        503: unavailable,
      },
      async handle(req, res, { body }) {
        const principal = principalOf(req);
        let project: string = EVERY_PROJECT;
        if (body.project !== undefined) project = targetProject(req, body.project, 'admin');
        else if (!principal.owner)
          throw new AppError(
            'insufficient-role',
            `a policy without a project applies to every project and is made by owners; "${principal.name}" is not ` +
              `one: name the project`,
          );
        const policy = await createPolicy(deps, auditOf(req), project, body);
        res.status(201).location(policy.href).json(policy);
      },
    }),
    route({
      method: 'get',
      path: '/api/policies',
      operationId: 'listPolicies',
      tags: [TAG],
      summary: 'List policies',
      description:
        "The policies that apply to `?project=`'s jobs (its own and every project's), or to those of every project " +
        'the caller has a role in; oldest first.',
      request: { query: PolicyListQuery },
      responses: {
        200: json('The policies.', PolicyList),
        400: problem('The query is not valid.'),
        404: noListedProject,
        503: unavailable,
      },
      async handle(req, res, { query }) {
        res.json({ items: await listPolicies(deps, readableProjects(principalOf(req), query.project)) });
      },
    }),
    route({
      method: 'get',
      path: '/api/policies/{policyId}',
      operationId: 'getPolicy',
      tags: [TAG],
      summary: 'Get a policy',
      description:
        "A policy of a project the caller has a role in, or an every-project one (they apply to everyone's jobs).",
      request: { params: PolicyIdParams },
      responses: {
        200: json('The policy.', Policy),
        400: badPolicyId,
        404: noPolicy,
        503: unavailable,
      },
      async handle(req, res, { params }) {
        res.json(toPolicy(await policyFor(deps, req, params.policyId, 'read')));
      },
    }),
    route({
      method: 'patch',
      path: '/api/policies/{policyId}',
      operationId: 'updatePolicy',
      audit: { action: 'policy.update', target: 'policy', param: 'policyId' },
      tags: [TAG],
      summary: 'Change a policy',
      description:
        'Changes the fields given; a new rule is checked as at creation. Jobs evaluated already keep their results; ' +
        'jobs that plan from now on are held to the policy as changed.',
      request: {
        params: PolicyIdParams,
        body: { content: { 'application/json': { schema: PolicyUpdateRequest } }, required: true },
      },
      responses: {
        200: json('The policy as changed.', Policy),
        400: badRule,
        403: notAdmin,
        404: noPolicy,
        503: unavailable,
      },
      authorize: (req, { params }) => policyFor(deps, req, params.policyId, 'admin'),
      async handle(req, res, { authorized: record, body }) {
        res.json(await updatePolicy(deps, auditOf(req), record.id, body));
      },
    }),
    route({
      method: 'delete',
      path: '/api/policies/{policyId}',
      operationId: 'deletePolicy',
      audit: { action: 'policy.delete', target: 'policy', param: 'policyId' },
      tags: [TAG],
      summary: 'Delete a policy',
      description: 'Jobs evaluated already keep their results.',
      request: { params: PolicyIdParams },
      responses: {
        204: { description: 'Deleted.' },
        400: badPolicyId,
        403: notAdmin,
        404: noPolicy,
        503: unavailable,
      },
      async handle(req, res, { params }) {
        await deletePolicy(deps, auditOf(req), await policyFor(deps, req, params.policyId, 'admin'));
        res.status(204).end();
      },
    }),
  ];
}
