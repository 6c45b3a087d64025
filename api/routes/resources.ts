// /api/ec2instance: parse, call one use case, map the outcome to HTTP.
import type { Request, Response } from 'express';
import { AppError } from '../../core/errors.ts';
import { CreateResourceRequest, ListQuery, Resource, ResourceIdParams, ResourceList } from '../../core/schemas/index.ts';
import { principalOf } from '../auth.ts';
import { preferredWait } from '../prefer.ts';
import { requireId } from '../problems.ts';
import { parseOrThrow } from '../validate.ts';
import { json, problem, type Route } from '../route.ts';
import { createStack, deleteStack, getResource, retryCreate } from '../../core/lifecycle/index.ts';
import { isFinished, type UseCaseDeps, waitForResource } from '../wait.ts';
import { badId, IdempotencyHeaders, locationHeader, PreferHeader, preferenceApplied, unavailable } from './common.ts';

const RESOURCES_PATH = '/api/ec2instance';
const TAG = 'ec2instance';
const notFound = problem('No resource with this id.');

export function resourceRoutes(deps: UseCaseDeps & { shutdown: AbortSignal }): Route[] {
  async function maybeWait(req: Request, res: Response, resource: Resource): Promise<Resource> {
    const seconds = preferredWait(req.get('prefer'));
    if (seconds === undefined || isFinished(resource)) return resource;
    res.set('Preference-Applied', `wait=${seconds}`);
    if (seconds === 0) return resource;
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const final = await waitForResource(deps, resource, seconds, AbortSignal.any([gone.signal, deps.shutdown]));
    // Report the job the request started, not one requested since.
    return final.job.id === resource.job.id ? final : resource;
  }

  return [
    {
      method: 'post',
      path: RESOURCES_PATH,
      operationId: 'createEc2instance',
      tags: [TAG],
      summary: 'Create a stack',
      description:
        'Records the resource, queues a create job and answers 202 at once. A worker then runs `terraform apply` in a new workspace named by the resource id.',
      request: {
        headers: IdempotencyHeaders,
        body: { required: false, content: { 'application/json': { schema: CreateResourceRequest } } },
      },
      responses: {
        202: { ...json('Accepted; the resource is `creating`.', Resource), headers: { ...locationHeader, ...preferenceApplied } },
        201: { ...json('With `Prefer: wait`: the stack is ready.', Resource), headers: { ...locationHeader, ...preferenceApplied } },
        200: { ...json('With `Prefer: wait`: the create finished and failed.', Resource), headers: locationHeader },
        400: problem('Invalid body (malformed JSON, unknown field, a value out of range) or Idempotency-Key.'),
        403: problem('The token has no write scope, or already has its maximum of live resources.'),
        413: problem('Body over 16 KB.'),
        415: problem('Body is not application/json.'),
        422: problem('The Idempotency-Key was used with a different body.'),
        503: unavailable,
      },
      async handle(req, res) {
        const key = idempotencyKey(req.get('idempotency-key'));
        const request = parseOrThrow(CreateResourceRequest, req.body ?? {}, 'body');
        const { resource, replayed } = await createStack(deps, principalOf(req), request, key);
        res.location(`${RESOURCES_PATH}/${resource.id}`);
        if (replayed) res.set('Idempotent-Replayed', 'true');
        const final = await maybeWait(req, res, resource);
        res.status(isFinished(final) ? (final.status === 'ready' ? 201 : 200) : 202).json(final);
      },
    },
    {
      method: 'get',
      path: RESOURCES_PATH,
      operationId: 'listEc2instances',
      tags: [TAG],
      summary: 'List stacks, newest first',
      description: 'A page of stacks, optionally only those in one status. Pass `next_cursor` as `cursor` for the next page.',
      request: { query: ListQuery },
      responses: {
        200: json('A page of resources.', ResourceList),
        400: problem('Invalid status, limit or cursor.'),
        503: unavailable,
      },
      async handle(req, res) {
        const query = parseOrThrow(ListQuery, req.query, 'query');
        const page = await deps.store.resources.list(query);
        res.json({ items: page.items, next_cursor: page.nextCursor });
      },
    },
    {
      method: 'get',
      path: `${RESOURCES_PATH}/{id}`,
      operationId: 'getEc2instance',
      tags: [TAG],
      summary: 'Get a stack',
      description: 'The stack with its status, inputs, outputs and current or last job.',
      request: { params: ResourceIdParams },
      responses: { 200: json('The resource.', Resource), 400: badId, 404: notFound, 503: unavailable },
      async handle(req, res) {
        res.json(await getResource(deps, requireId(req.params.id)));
      },
    },
    {
      method: 'delete',
      path: `${RESOURCES_PATH}/{id}`,
      operationId: 'deleteEc2instance',
      tags: [TAG],
      summary: 'Destroy a stack',
      description:
        'Queues a delete job (`terraform destroy`, then the workspace is deleted). It runs after the job already running for the resource; a create that has not started yet is cancelled instead. Repeating the request while it is deleting returns the same job.',
      request: { params: ResourceIdParams, headers: PreferHeader },
      responses: {
        202: { ...json('Accepted; the resource is `deleting`.', Resource), headers: preferenceApplied },
        200: {
          ...json('The delete finished (with `Prefer: wait`), the create had not started and was cancelled, or the resource was already deleted.', Resource),
          headers: preferenceApplied,
        },
        400: badId,
        404: notFound,
        503: unavailable,
      },
      async handle(req, res) {
        const { resource } = await deleteStack(deps, requireId(req.params.id));
        const final = await maybeWait(req, res, resource);
        res.status(isFinished(final) ? 200 : 202).json(final);
      },
    },
    {
      method: 'post',
      path: `${RESOURCES_PATH}/{id}/retry`,
      operationId: 'retryEc2instance',
      tags: [TAG],
      summary: 'Retry a failed create',
      description:
        'Runs `terraform apply` again, with the same inputs, in the workspace the failed create left. Only a `failed` resource can be retried; a failed delete is retried with DELETE.',
      request: { params: ResourceIdParams, headers: PreferHeader },
      responses: {
        202: { ...json('Accepted; the resource is `creating` again.', Resource), headers: preferenceApplied },
        200: { ...json('With `Prefer: wait`: the retry finished (see `status`).', Resource), headers: preferenceApplied },
        400: badId,
        404: notFound,
        409: problem('The resource is not `failed`.'),
        503: unavailable,
      },
      async handle(req, res) {
        const resource = await retryCreate(deps, requireId(req.params.id));
        const final = await maybeWait(req, res, resource);
        res.status(isFinished(final) ? 200 : 202).json(final);
      },
    },
  ];
}

// The Idempotency-Key header (IETF httpapi draft): a structured-field string,
// "quoted", though a bare value is accepted too.
function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = /^"(.*)"$/.exec(header.trim())?.[1] ?? header.trim();
  if (!/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,255}$/.test(value)) {
    throw new AppError('invalid-idempotency-key', 'Idempotency-Key must be 1-255 printable ASCII characters, without " or \\');
  }
  return value;
}
