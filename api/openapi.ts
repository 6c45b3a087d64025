// The OpenAPI 3.1 document, generated from the route declarations (route.ts)
// and the zod schemas that validate requests; a schema with a `.meta()` id
// becomes a component.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { Template } from '../core/templates/index.ts';
import { isApiRoute, problem, type Route } from './route.ts';

export const API_VERSION = '0.1.0';

export function buildOpenApiDocument(routes: readonly Route[], templates: readonly Template[]) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API_TOKENS entry, a token made through the API (`tfc_…`), or an OIDC identity token when OIDC_ISSUER is ' +
      'set. What it may do is its role in the project of what it acts on.',
  });
  for (const { handle: _handle, audit: _audit, authorize: _authorize, ...route } of routes) {
    if (!isApiRoute(route.path)) {
      registry.registerPath({ ...route, security: [] });
      continue;
    }
    // Every /api route needs a token and counts against its rate limit.
    registry.registerPath({
      ...route,
      responses: {
        401: problem('No token, or not a valid one.'),
        403: problem(
          "The caller's role in the project is too low (`insufficient-role`, naming the role needed), or a verified " +
            'OIDC identity no binding grants anything (`no-grants`).',
        ),
        429: problem("Over the token's requests a minute; retry after the Retry-After interval."),
        ...route.responses,
      },
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'tfcompute',
      version: API_VERSION,
      description:
        'Terraform root modules as REST resources. Each template (a root module) is a resource type at ' +
        '/api/{template}, its inputs typed from its variables; every resource is one Terraform workspace, and ' +
        'create and delete run asynchronously on workers.',
      contact: { name: 'tfcompute maintainers' },
    },
    // Relative: the document is served by the API it describes.
    servers: [{ url: '/', description: 'This API' }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'templates', description: 'The resource types this installation serves' },
      ...templates.map((template) => ({
        name: template.name,
        description: template.description || `${template.name} stacks`,
      })),
      { name: 'jobs', description: 'Terraform runs' },
      {
        name: 'projects',
        description:
          'The tenant boundary: every stack, job and token belongs to one project, and a caller sees only the ' +
          'projects it has a role in',
      },
      {
        name: 'webhooks',
        description: 'Lifecycle events (CloudEvents) POSTed to receivers, signed the Standard Webhooks way',
      },
      {
        name: 'policies',
        description:
          'Guardrails (CEL rules) checked on every plan before anything is applied: advisory, soft-mandatory, ' +
          'hard-mandatory',
      },
      { name: 'audit', description: 'Who changed what, and who was refused: one entry per change and per refusal' },
      { name: 'operations', description: 'Health checks and metrics; no token needed' },
    ],
  });
}
