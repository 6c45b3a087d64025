// /api/templates: the catalogue of templates, each with the JSON Schema of
// its inputs and the names of its outputs.
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { TemplateName } from '../../core/schemas/index.ts';
import type { Catalogue, Template } from '../../core/templates/index.ts';
import { json, problem, type Route, route } from '../route.ts';
import { unavailable } from './common.ts';

const TAG = 'templates';

export const TemplateInfo = z
  .object({
    name: TemplateName,
    description: z.string(),
    version: z.string().meta({
      description: "A hash of the template's files and the local modules it sources; any change to them changes it.",
    }),
    inputs_schema: z
      .record(z.string(), z.unknown())
      .meta({ description: "JSON Schema (2020-12) of a create request's inputs, from the variables." }),
    outputs: z.array(z.object({ name: z.string(), sensitive: z.boolean() })),
  })
  .meta({
    id: 'Template',
    example: {
      name: 'ec2instance',
      description: 'EC2 instances with SSM access',
      version: '3f9c2a1b7d4e5f60',
      inputs_schema: {
        type: 'object',
        properties: { node_count: { type: 'integer', minimum: 1, maximum: 10, default: 1 } },
        additionalProperties: false,
      },
      outputs: [{ name: 'instance_ids', sensitive: false }],
    },
  });
type TemplateInfo = z.infer<typeof TemplateInfo>;

const TemplateList = z.object({ items: z.array(TemplateInfo) }).meta({ id: 'TemplateList' });
// Any name: one the catalogue does not hold, however long, is a 404.
const TemplateParams = z.object({ name: z.string().meta({ example: 'ec2instance' }) });

export function templateRoutes(catalogue: Catalogue): Route[] {
  // Built once: the catalogue does not change while the process runs.
  const infos = new Map(catalogue.list().map((template) => [template.name, infoOf(template)]));
  return [
    route({
      method: 'get',
      path: '/api/templates',
      operationId: 'listTemplates',
      tags: [TAG],
      summary: 'List the templates',
      description: 'Every template this installation serves: each is a resource type at /api/{name}.',
      responses: { 200: json('The templates.', TemplateList), 503: unavailable },
      handle(_req, res) {
        res.json({ items: [...infos.values()] });
      },
    }),
    route({
      method: 'get',
      path: '/api/templates/{name}',
      operationId: 'getTemplate',
      tags: [TAG],
      summary: 'Get a template',
      description: 'One template, with the JSON Schema of its inputs.',
      request: { params: TemplateParams },
      responses: {
        200: json('The template.', TemplateInfo),
        404: problem('No template with this name.'),
        503: unavailable,
      },
      handle(_req, res, { params: { name } }) {
        const info = infos.get(name);
        if (!info)
          throw new AppError('template-not-found', `no template named "${name}"; GET /api/templates lists them`);
        res.json(info);
      },
    }),
  ];
}

function infoOf(template: Template): TemplateInfo {
  return {
    name: template.name,
    description: template.description,
    version: template.version,
    inputs_schema: z.toJSONSchema(template.inputsSchema, { io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >,
    outputs: template.outputs.map(({ name, sensitive }) => ({ name, sensitive })),
  };
}
