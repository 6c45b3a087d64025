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

export function buildOpenApiDocument() {
  const registry = new OpenAPIRegistry();
  for (const [name, schema] of Object.entries({ Resource, ResourceList, Job, Problem, CreateResourceRequest })) {
    registry.register(name, schema);
  }
  const badId = problem('The id is not 16 characters of 0-9 and a-z.');
  const unavailable = problem('Redis is unreachable; retry after the Retry-After interval.');

  registry.registerPath({
    method: 'post',
    path: '/api/ec2instance',
    tags: ['ec2instance'],
    summary: 'Create a stack',
    description:
      'Records the resource, queues a create job and answers 202 at once. A worker then runs `terraform apply` in a new workspace named by the resource id.',
    request: {
      headers: PreferHeader,
      body: { required: false, content: { 'application/json': { schema: CreateResourceRequest } } },
    },
    responses: {
      202: { ...json('Accepted; the resource is `creating`.', Resource), headers: { ...locationHeader, ...preferenceApplied } },
      201: { ...json('With `Prefer: wait`: the stack is ready.', Resource), headers: { ...locationHeader, ...preferenceApplied } },
      200: { ...json('With `Prefer: wait`: the create finished and failed.', Resource), headers: locationHeader },
      400: problem('Invalid body: malformed JSON, unknown field or a value out of range.'),
      413: problem('Body over 16 KB.'),
      415: problem('Body is not application/json.'),
      503: unavailable,
    },
  });

  registry.registerPath({
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

  registry.registerPath({
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

  registry.registerPath({
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

  registry.registerPath({
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

  registry.registerPath({
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

  registry.registerPath({
    method: 'get',
    path: '/api/jobs/{jobId}/log',
    tags: ['jobs'],
    summary: "Get a job's Terraform output",
    request: { params: JobIdParams },
    responses: {
      200: {
        description: "Terraform's output as plain text, without colour codes.",
        content: { 'text/plain': { schema: z.string().openapi({ example: 'terraform_data.instance[0]: Creating...' }) } },
      },
      400: badId,
      404: problem('No job with this id.'),
      503: unavailable,
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/healthz',
    tags: ['operations'],
    summary: 'Liveness: the process is up',
    responses: { 200: json('Alive.', z.object({ status: z.literal('ok') })) },
  });

  registry.registerPath({
    method: 'get',
    path: '/readyz',
    tags: ['operations'],
    summary: 'Readiness: Redis answers',
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
    tags: [
      { name: 'ec2instance', description: 'EC2 instance stacks' },
      { name: 'jobs', description: 'Terraform runs' },
      { name: 'operations', description: 'Health checks' },
    ],
  });
}
