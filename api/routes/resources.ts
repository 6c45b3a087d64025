// /api/{template}: one template's stacks. Parse, call one use case, map the
// outcome to HTTP. Every template gets this route set, with its own request
// schema.
import type { Request, Response } from 'express';
import { AppError } from '../../core/errors.ts';
import {
  Job,
  ListQuery,
  ProjectQuery,
  Resource,
  ResourceIdParams,
  ResourceList,
  Ttl,
  UpdateRequest,
} from '../../core/schemas/index.ts';
import type { Template } from '../../core/templates/index.ts';
import { principalOf, readableProjects, stackFor, targetProject } from '../access.ts';
import { auditOf } from '../audit.ts';
import { preferredWait } from '../prefer.ts';
import { json, problem, type Route, route } from '../route.ts';
import {
  createStack,
  deleteStack,
  planStack,
  retryStack,
  updateStack,
  withLatestVersion,
} from '../../core/lifecycle/index.ts';
import { isFinished, isJobFinished, isJobSettled, type UseCaseDeps, waitForJob, waitForResource } from '../wait.ts';
import {
  badId,
  IdempotencyHeaders,
  jobLocationHeader,
  locationHeader,
  PreferHeader,
  preferenceApplied,
  unavailable,
} from './common.ts';

export const notFound = problem(
  'No resource of this template with this id, or none the caller has a role in its project to see: both answer alike.',
);
const tooLow = (role: string) =>
  problem(`The caller's role in the stack's project is below ${role} (\`insufficient-role\`).`);

export function resourceRoutes(deps: UseCaseDeps & { shutdown: AbortSignal }, template: Template): Route[] {
  const RESOURCES_PATH = `/api/${template.name}`;
  const TAG = template.name;
  const noun = pascalCase(template.name);
  const CreateRequest = createRequestSchema(template, noun);
  const show = (resource: Resource) => withLatestVersion(resource, template);

  // With `Prefer: wait=N` on a request whose job has not finished: marks the
  // preference applied and, for N > 0, returns how long to wait and a signal
  // that ends the wait early (the client went, or the API is stopping).
  function waitPreference(
    req: Request,
    res: Response,
    finished: boolean,
  ): { seconds: number; signal: AbortSignal } | undefined {
    const seconds = preferredWait(req.get('prefer'));
    if (seconds === undefined || finished) return undefined;
    res.set('Preference-Applied', `wait=${seconds}`);
    if (seconds === 0) return undefined;
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    return { seconds, signal: AbortSignal.any([gone.signal, deps.shutdown]) };
  }

  async function maybeWait(req: Request, res: Response, resource: Resource): Promise<Resource> {
    const wait = waitPreference(req, res, isFinished(resource));
    if (!wait) return resource;
    const final = await waitForResource(deps, resource, wait.seconds, wait.signal);
    // Report the job the request started, not one requested since.
    return final.job.id === resource.job.id ? final : resource;
  }

  async function maybeWaitForJob(req: Request, res: Response, job: Job): Promise<Job> {
    const wait = waitPreference(req, res, isJobFinished(job.status));
    return wait ? waitForJob(deps, job, wait.seconds, wait.signal) : job;
  }

  return [
    route({
      method: 'post',
      path: RESOURCES_PATH,
      operationId: `create${noun}`,
      audit: { action: 'stack.create', target: 'stack' },
      tags: [TAG],
      summary: 'Create a stack',
      description:
        'Records the resource, queues a create job and answers 202 at once. A worker then runs `terraform apply` in ' +
        'a new workspace named by the resource id.',
      request: {
        query: ProjectQuery,
        headers: IdempotencyHeaders,
        body: {
          required: !template.inputs.every((input) => input.hasDefault),
          content: { 'application/json': { schema: CreateRequest } },
        },
      },
      responses: {
        202: {
          ...json('Accepted; the resource is `creating`.', Resource),
          headers: { ...locationHeader, ...preferenceApplied },
        },
        201: {
          ...json('With `Prefer: wait`: the stack is ready.', Resource),
          headers: { ...locationHeader, ...preferenceApplied },
        },
        200: { ...json('With `Prefer: wait`: the create finished and failed.', Resource), headers: locationHeader },
        400: problem(
          'Invalid body (malformed JSON, unknown field, a value out of range) or Idempotency-Key; or no `?project=` ' +
            'from a caller with roles in several projects (`project-required`).',
        ),
        403: problem(
          "The caller's role in the project is below write (`insufficient-role`), or the token already has its " +
            'maximum of live resources.',
        ),
        404: problem('No such project, or none the caller has a role in (`project-not-found`).'),
        409: problem('The project is at its quota of live stacks (`quota-exceeded`).'),
        413: problem('Body over 16 KB.'),
        415: problem('Body is not application/json.'),
        422: problem('The Idempotency-Key was used with a different body.'),
        503: unavailable,
      },
      authorize: (req, { query }) => ({
        key: idempotencyKey(req.get('idempotency-key')),
        project: targetProject(req, query.project, 'write'),
      }),
      async handle(req, res, { authorized: { key, project }, body }) {
        const { ttl, ...inputs } = body as { ttl?: number } & Record<string, unknown>;
        const request = { inputs, ttl };
        const { resource, replayed } = await createStack(
          deps,
          principalOf(req),
          project,
          template,
          request,
          key,
          auditOf(req),
        );
        res.location(`${RESOURCES_PATH}/${resource.id}`);
        if (replayed) res.set('Idempotent-Replayed', 'true');
        const final = await maybeWait(req, res, resource);
        res.status(isFinished(final) ? (final.status === 'ready' ? 201 : 200) : 202).json(show(final));
      },
    }),
    route({
      method: 'get',
      path: RESOURCES_PATH,
      operationId: `list${noun}s`,
      tags: [TAG],
      summary: 'List stacks, newest first',
      description:
        'A page of the stacks the caller can read (those of the projects it has a role in), optionally only those of ' +
        'one project (`?project=`), in one status, or with one drift result (`?drift=drifted`). Pass `next_cursor` ' +
        'as `cursor` for the next page.',
      request: { query: ListQuery },
      responses: {
        200: json('A page of resources.', ResourceList),
        400: problem('Invalid project, status, drift, limit or cursor.'),
        404: problem('`?project=` names no project the caller has a role in (`project-not-found`).'),
        503: unavailable,
      },
      async handle(req, res, { query: { project, ...query } }) {
        const projects = readableProjects(principalOf(req), project);
        const page = await deps.store.resources.list({ ...query, template: template.name, projects });
        res.json({ items: page.items.map(show), next_cursor: page.nextCursor });
      },
    }),
    route({
      method: 'get',
      path: `${RESOURCES_PATH}/{id}`,
      operationId: `get${noun}`,
      tags: [TAG],
      summary: 'Get a stack',
      description: 'The stack with its status, inputs, outputs and current or last job.',
      request: { params: ResourceIdParams },
      responses: { 200: json('The resource.', Resource), 400: badId, 404: notFound, 503: unavailable },
      async handle(req, res, { params }) {
        res.json(show(await stackFor(deps, req, template.name, params.id, 'read')));
      },
    }),
    route({
      method: 'patch',
      path: `${RESOURCES_PATH}/{id}`,
      operationId: `update${noun}`,
      audit: { action: 'stack.update', target: 'stack', param: 'id' },
      tags: [TAG],
      summary: 'Change a stack',
      description:
        "Merges `inputs` into the stack's inputs (RFC 7396: null removes a key, which falls back to the variable's " +
        'default), checks the result against the template as served now, and queues an `update` job: `terraform ' +
        'plan` with the new inputs. A plan with no changes finishes at once and the stack takes the inputs; with ' +
        '`auto_apply` the plan is applied at once; otherwise the job waits `planned` until `POST ' +
        '/api/jobs/{jobId}/apply` or `/discard`. The stack keeps its inputs until the update succeeds. Only a ' +
        '`ready` or `update_failed` stack can be changed.',
      request: {
        params: ResourceIdParams,
        headers: PreferHeader,
        body: {
          required: true,
          content: {
            'application/merge-patch+json': { schema: UpdateRequest },
            'application/json': { schema: UpdateRequest },
          },
        },
      },
      responses: {
        202: { ...json('Accepted; the resource is `updating`.', Resource), headers: preferenceApplied },
        200: {
          ...json(
            'With `Prefer: wait`: the update finished, or its plan waits for approval (see `job.status`).',
            Resource,
          ),
          headers: preferenceApplied,
        },
        400: problem('Invalid body, or merged inputs the template does not accept (each field named).'),
        403: tooLow('plan (write for `auto_apply`)'),
        404: notFound,
        409: problem('The stack is not `ready` or `update_failed`.'),
        415: problem('Body is not application/json or application/merge-patch+json.'),
        503: unavailable,
      },
      // The plan role plans; applying without an approval is a write. The
      // role is checked before the body, so a caller without it learns nothing.
      async authorize(req, { params }) {
        const autoApply = (req.body as { auto_apply?: unknown } | undefined)?.auto_apply === true;
        await stackFor(deps, req, template.name, params.id, autoApply ? 'write' : 'plan');
      },
      async handle(req, res, { params: { id }, body }) {
        const change = { inputs: body.inputs, autoApply: body.auto_apply };
        const resource = await updateStack(deps, template.name, id, change, auditOf(req));
        const final = await maybeWait(req, res, resource);
        res.status(isJobSettled(final.job.status) ? 200 : 202).json(show(final));
      },
    }),
    route({
      method: 'delete',
      path: `${RESOURCES_PATH}/{id}`,
      operationId: `delete${noun}`,
      audit: { action: 'stack.delete', target: 'stack', param: 'id' },
      tags: [TAG],
      summary: 'Destroy a stack',
      description:
        'Queues a delete job (`terraform destroy`, then the workspace is deleted). It runs after the job already ' +
        'running for the resource; a create that has not started yet is cancelled instead. Repeating the request ' +
        'while it is deleting returns the same job.',
      request: { params: ResourceIdParams, headers: PreferHeader },
      responses: {
        202: { ...json('Accepted; the resource is `deleting`.', Resource), headers: preferenceApplied },
        200: {
          ...json(
            'The delete finished (with `Prefer: wait`), the create had not started and was cancelled, or the ' +
              'resource was already deleted.',
            Resource,
          ),
          headers: preferenceApplied,
        },
        400: badId,
        403: tooLow('write'),
        404: notFound,
        503: unavailable,
      },
      async handle(req, res, { params: { id } }) {
        await stackFor(deps, req, template.name, id, 'write');
        const { resource } = await deleteStack(deps, template.name, id, auditOf(req));
        const final = await maybeWait(req, res, resource);
        res.status(isFinished(final) ? 200 : 202).json(show(final));
      },
    }),
    route({
      method: 'post',
      path: `${RESOURCES_PATH}/{id}/retry`,
      operationId: `retry${noun}`,
      audit: { action: 'stack.retry', target: 'stack', param: 'id' },
      tags: [TAG],
      summary: 'Retry a failed create or update',
      description:
        'A `failed` stack: runs `terraform apply` again, with the same inputs, in the workspace the failed create ' +
        'left, with the template as served now: the inputs are checked against that version first, and the ' +
        'resource takes it. An `update_failed` stack: queues its failed update again (the same inputs, checked ' +
        'against the template as served now, planned afresh against what the failed apply left, applied at once ' +
        'only if that update was). A failed delete is retried with DELETE.',
      request: { params: ResourceIdParams, headers: PreferHeader },
      responses: {
        202: {
          ...json('Accepted; the resource is `creating` (or `updating`) again.', Resource),
          headers: preferenceApplied,
        },
        200: {
          ...json(
            'With `Prefer: wait`: the retry finished, or its plan waits for approval (see `status` and `job.status`).',
            Resource,
          ),
          headers: preferenceApplied,
        },
        400: badId,
        403: tooLow('write'),
        404: notFound,
        409: problem(
          'The resource is not `failed` or `update_failed`, or its inputs do not satisfy its template as served now.',
        ),
        503: unavailable,
      },
      async handle(req, res, { params: { id } }) {
        await stackFor(deps, req, template.name, id, 'write');
        const resource = await retryStack(deps, template.name, id, auditOf(req));
        const final = await maybeWait(req, res, resource);
        res.status(isJobSettled(final.job.status) ? 200 : 202).json(show(final));
      },
    }),
    route({
      method: 'post',
      path: `${RESOURCES_PATH}/{id}/plan`,
      operationId: `plan${noun}`,
      audit: { action: 'stack.plan', target: 'stack', param: 'id' },
      tags: [TAG],
      summary: 'Plan a stack (speculative)',
      description:
        "Queues a plan-only job: `terraform plan` with the stack's inputs and the template as served now, after the " +
        "stack's other jobs. Its `plan` shows what an apply would change now: changes made outside Terraform that " +
        'the refresh found (`drift`) and changes of the configuration alike. It never applies, and never changes ' +
        "the stack's inputs or status. Only a `ready` stack can be planned.",
      request: { params: ResourceIdParams, headers: PreferHeader },
      responses: {
        202: {
          ...json('Accepted; the plan job is queued.', Job),
          headers: { ...jobLocationHeader, ...preferenceApplied },
        },
        200: {
          ...json('With `Prefer: wait`: the plan job finished (see `status` and `plan`).', Job),
          headers: { ...jobLocationHeader, ...preferenceApplied },
        },
        400: badId,
        403: tooLow('plan'),
        404: notFound,
        409: problem('The stack is not `ready`.'),
        503: unavailable,
      },
      async handle(req, res, { params: { id } }) {
        await stackFor(deps, req, template.name, id, 'plan');
        const job = await planStack(deps, template.name, id, auditOf(req));
        res.location(job.href);
        const final = await maybeWaitForJob(req, res, job);
        res.status(isJobFinished(final.status) ? 200 : 202).json(final);
      },
    }),
  ];
}

// The create request: the template's inputs, and the request's own ttl.
function createRequestSchema(template: Template, noun: string) {
  const example: Record<string, unknown> = {};
  for (const input of template.inputs) {
    const value = input.example ?? (input.hasDefault && !input.sensitive ? input.default : undefined);
    if (value !== undefined && value !== null) example[input.name] = value;
  }
  return template.inputsSchema.extend({ ttl: Ttl.optional() }).meta({
    id: `Create${noun}Request`,
    description:
      `Inputs of a new ${template.name} stack, from the template's variables; those with a default are ` +
      `optional, and unknown fields are rejected.${template.description ? ` ${template.description}` : ''}`,
    example: { ...example, ttl: '8h' },
  });
}

// "ec2instance" -> "Ec2instance", "preview-env" -> "PreviewEnv"
export function pascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

// The Idempotency-Key header (IETF httpapi draft): a structured-field string,
// "quoted", though a bare value is accepted too.
function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = /^"(.*)"$/.exec(header.trim())?.[1] ?? header.trim();
  if (!/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,255}$/.test(value)) {
    throw new AppError(
      'invalid-idempotency-key',
      'Idempotency-Key must be 1-255 printable ASCII characters, without " or \\',
    );
  }
  return value;
}
