// /api/{template}: one template's stacks: create one, list them, read one
// (changes to a stack are in stack-changes.ts). Every template gets this
// route set, with its own request schema.
import { AppError } from '../../core/errors.ts';
import { createStack, withLatestVersion } from '../../core/lifecycle/index.ts';
import { ListQuery, ProjectQuery, Stack, StackIdParams, StackList, Ttl } from '../../core/schemas/index.ts';
import type { Template } from '../../core/templates/index.ts';
import { readableProjects, stackFor, targetProject } from '../access.ts';
import { principalOf } from '../principal.ts';
import { auditOf } from '../audit.ts';
import { json, problem, type Route, route } from '../route.ts';
import { isFinished, type UseCaseDeps } from '../wait.ts';
import {
  badId,
  IdempotencyHeaders,
  locationHeader,
  preferenceApplied,
  unavailable,
  noProject,
  noListedProject,
} from './common.ts';
import { preferredWaits } from './stack-wait.ts';

export const notFound = problem(
  'No resource of this template with this id, or none the caller has a role in its project to see: both answer alike.',
);

export function stackRoutes(deps: UseCaseDeps & { shutdown: AbortSignal }, template: Template): Route[] {
  const STACKS_PATH = `/api/${template.name}`;
  const TAG = template.name;
  const noun = pascalCase(template.name);
  const CreateRequest = createRequestSchema(template, noun);
  const show = (stack: Stack) => withLatestVersion(stack, template);
  const { maybeWait } = preferredWaits(deps);

  return [
    route({
      method: 'post',
      path: STACKS_PATH,
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
          ...json('Accepted; the resource is `creating`.', Stack),
          headers: { ...locationHeader, ...preferenceApplied },
        },
        201: {
          ...json('With `Prefer: wait`: the stack is ready.', Stack),
          headers: { ...locationHeader, ...preferenceApplied },
        },
        200: { ...json('With `Prefer: wait`: the create finished and failed.', Stack), headers: locationHeader },
        400: problem(
          'Invalid body (malformed JSON, unknown field, a value out of range) or Idempotency-Key; or no `?project=` ' +
            'from a caller with roles in several projects (`project-required`).',
        ),
        403: problem(
          "The caller's role in the project is below write (`insufficient-role`), or the token already has its " +
            'maximum of live resources.',
        ),
        404: noProject,
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
        const { stack, replayed } = await createStack(
          deps,
          principalOf(req),
          project,
          template,
          request,
          key,
          auditOf(req),
        );
        res.location(`${STACKS_PATH}/${stack.id}`);
        if (replayed) res.set('Idempotent-Replayed', 'true');
        const final = await maybeWait(req, res, stack);
        res.status(isFinished(final) ? (final.status === 'ready' ? 201 : 200) : 202).json(show(final));
      },
    }),
    route({
      method: 'get',
      path: STACKS_PATH,
      operationId: `list${noun}s`,
      tags: [TAG],
      summary: 'List stacks, newest first',
      description:
        'A page of the stacks the caller can read (those of the projects it has a role in), optionally only those of ' +
        'one project (`?project=`), in one status, or with one drift result (`?drift=drifted`). Pass `next_cursor` ' +
        'as `cursor` for the next page.',
      request: { query: ListQuery },
      responses: {
        200: json('A page of resources.', StackList),
        400: problem('Invalid project, status, drift, limit or cursor.'),
        404: noListedProject,
        503: unavailable,
      },
      async handle(req, res, { query: { project, ...query } }) {
        const projects = readableProjects(principalOf(req), project);
        const page = await deps.store.stacks.list({ ...query, template: template.name, projects });
        res.json({ items: page.items.map(show), next_cursor: page.nextCursor });
      },
    }),
    route({
      method: 'get',
      path: `${STACKS_PATH}/{id}`,
      operationId: `get${noun}`,
      tags: [TAG],
      summary: 'Get a stack',
      description: 'The stack with its status, inputs, outputs and current or last job.',
      request: { params: StackIdParams },
      responses: { 200: json('The resource.', Stack), 400: badId, 404: notFound, 503: unavailable },
      async handle(req, res, { params }) {
        res.json(show(await stackFor(deps, req, template.name, params.id, 'read')));
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
