// The OpenAPI 3.1 document, generated from the same zod schemas that validate
// requests (core/schemas.ts).
import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  CreateResourceRequest,
  Job,
  JobIdParams,
  ListQuery,
  Problem,
  Resource,
  ResourceIdParams,
  ResourceList,
} from '../core/schemas.ts';
import { MAX_WAIT_SECONDS } from './prefer.ts';

const problem = (description: string): ResponseConfig => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});

const json = (description: string, schema: z.ZodType): ResponseConfig => ({
  description,
  content: { 'application/json': { schema } },
});

const PreferHeader = z.object({
  prefer: z
    .string()
    .optional()
    .openapi({
      description: `RFC 7240. \`wait=N\` holds the response up to N seconds (at most ${MAX_WAIT_SECONDS}) until the job finishes.`,
      example: 'wait=60',
    }),
});

const locationHeader = { Location: { description: 'URL of the resource.', schema: { type: 'string' as const } } };
const preferenceApplied = {
  'Preference-Applied': { description: 'Echoes the wait preference that was honoured.', schema: { type: 'string' as const } },
};

const IdempotencyHeaders = PreferHeader.extend({
  'idempotency-key': z
    .string()
    .max(257)
    .optional()
    .openapi({
      description:
        'IETF httpapi draft: repeating a POST with the same key and body returns the resource the first one made (header `Idempotent-Replayed: true`) instead of making another; the same key with a different body is 422. Keys belong to the token and are kept 24 h.',
      example: '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
    }),
});

type RouteConfig = Parameters<OpenAPIRegistry['registerPath']>[0];

export function buildOpenApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token from API_TOKENS. GET needs the read scope; POST and DELETE need write.',
  });
  const rateLimited = problem('Over the token\'s requests a minute; retry after the Retry-After interval.');
  // Every /api route needs a token and counts against its rate limit.
  const apiPath = (route: RouteConfig) =>
    registry.registerPath({
      ...route,
      responses: {
        401: problem('No token, or not a valid one.'),
        403: problem(route.method === 'get' ? 'The token has no read scope.' : 'The token has no write scope.'),
        429: rateLimited,
        ...route.responses,
      },
    });
  // Open routes.
  const openPath = (route: RouteConfig) => registry.registerPath({ ...route, security: [] });
  for (const [name, schema] of Object.entries({ Resource, ResourceList, Job, Problem, CreateResourceRequest })) {
    registry.register(name, schema);
  }
  const badId = problem('The id is not 16 characters of 0-9 and a-z.');
  const unavailable = problem('Redis is unreachable; retry after the Retry-After interval.');

  apiPath({
    method: 'post',
    path: '/api/ec2instance',
    tags: ['ec2instance'],
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
  });

  apiPath({
    method: 'get',
    path: '/api/ec2instance',
    tags: ['ec2instance'],
    summary: 'List stacks, newest first',
    request: { query: ListQuery },
    responses: {
      200: json('A page of resources.', ResourceList),
      400: problem('Invalid status, limit or cursor.'),
      503: unavailable,
    },
  });

  apiPath({
    method: 'get',
    path: '/api/ec2instance/{id}',
    tags: ['ec2instance'],
    summary: 'Get a stack',
    request: { params: ResourceIdParams },
    responses: {
      200: json('The resource.', Resource),
      400: badId,
      404: problem('No resource with this id.'),
      503: unavailable,
    },
  });

  apiPath({
    method: 'delete',
    path: '/api/ec2instance/{id}',
    tags: ['ec2instance'],
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
      404: problem('No resource with this id.'),
      503: unavailable,
    },
  });

  apiPath({
    method: 'post',
    path: '/api/ec2instance/{id}/retry',
    tags: ['ec2instance'],
    summary: 'Retry a failed create',
    description:
      'Runs `terraform apply` again, with the same inputs, in the workspace the failed create left. Only a `failed` resource can be retried; a failed delete is retried with DELETE.',
    request: { params: ResourceIdParams, headers: PreferHeader },
    responses: {
      202: { ...json('Accepted; the resource is `creating` again.', Resource), headers: preferenceApplied },
      200: { ...json('With `Prefer: wait`: the retry finished (see `status`).', Resource), headers: preferenceApplied },
      400: badId,
      404: problem('No resource with this id.'),
      409: problem('The resource is not `failed`.'),
      503: unavailable,
    },
  });

  apiPath({
    method: 'get',
    path: '/api/jobs/{jobId}',
    tags: ['jobs'],
    summary: 'Get a job',
    request: { params: JobIdParams },
    responses: {
      200: json('The job, with its result or error.', Job),
      400: badId,
      404: problem('No job with this id.'),
      503: unavailable,
    },
  });

  apiPath({
    method: 'get',
    path: '/api/jobs/{jobId}/log',
    tags: ['jobs'],
    summary: "Get a job's Terraform output, or follow it live",
    description:
      'Plain text by default. With `Accept: text/event-stream`, Server-Sent Events: `log` events (each line a `data:` line; the `id` is the byte offset, so a client that reconnects with `Last-Event-ID` resumes where it was) while the job runs, then one `end` event whose data is `{"status": "..."}`.',
    request: { params: JobIdParams },
    responses: {
      200: {
        description: "Terraform's output, without colour codes.",
        content: {
          'text/plain': { schema: z.string().openapi({ example: 'terraform_data.instance[0]: Creating...' }) },
          'text/event-stream': {
            schema: z.string().openapi({ example: 'id: 43\nevent: log\ndata: terraform_data.instance[0]: Creating...\n\nevent: end\ndata: {"status":"succeeded"}\n\n' }),
          },
        },
      },
      400: badId,
      404: problem('No job with this id.'),
      503: unavailable,
    },
  });

  apiPath({
    method: 'post',
    path: '/api/jobs/{jobId}/cancel',
    tags: ['jobs'],
    summary: 'Cancel a job',
    description:
      'A queued job is removed at once (200, `cancelled`). A running one is interrupted: Terraform gets one SIGINT, stops after the operations in flight, saves state and releases its lock, and is killed if it has not stopped after the grace period (202, still `running` until it has). A cancelled create leaves the resource `failed`, a cancelled delete `delete_failed`; DELETE then destroys whatever was made.',
    request: { params: JobIdParams },
    responses: {
      200: json('The job was queued and is now `cancelled`.', Job),
      202: json('The job is running; its worker is stopping Terraform.', Job),
      400: badId,
      404: problem('No job with this id.'),
      409: problem('The job has already finished.'),
      503: unavailable,
    },
  });

  openPath({
    method: 'get',
    path: '/metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics',
    description:
      'HTTP latency by route and status (this process), queue depth by state, job duration by action and outcome, and resources by status (the whole installation, read from Redis).',
    responses: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: z.string() } } } },
  });

  openPath({
    method: 'get',
    path: '/healthz',
    tags: ['operations'],
    summary: 'Liveness: the process is up',
    responses: { 200: json('Alive.', z.object({ status: z.literal('ok') })) },
  });

  openPath({
    method: 'get',
    path: '/readyz',
    tags: ['operations'],
    summary: 'Readiness: Redis answers and the process is not stopping',
    responses: { 200: json('Ready.', z.object({ status: z.literal('ready') })), 503: unavailable },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'tfcompute',
      version: '0.1.0',
      description:
        'Terraform root configurations as REST resources. Every resource is one Terraform workspace; create and delete run asynchronously on workers.',
    },
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'ec2instance', description: 'EC2 instance stacks' },
      { name: 'jobs', description: 'Terraform runs' },
      { name: 'operations', description: 'Health checks and metrics; no token needed' },
    ],
  });
}
