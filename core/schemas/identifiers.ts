// The domain's names: stacks', jobs', projects', webhooks' and deliveries'
// ids, templates' names and versions, and the timestamp every record carries.
// The other domain schemas (stacks.ts, jobs.ts, plans.ts) are built from these.
import { z } from 'zod';
import { PROJECT_NAME } from '../access/roles.ts';
import { ID_PATTERN, ID_PATTERN_SOURCE } from '../ids.ts';

export const StackId = z.string().regex(ID_PATTERN, 'must be 16 characters of 0-9 and a-z').meta({
  description: 'Resource id; also the Terraform workspace name.',
  example: 'k3v9q2m8x1c4b7n0',
  pattern: ID_PATTERN_SOURCE,
});

export const JobId = z
  .string()
  .regex(ID_PATTERN, 'must be 16 characters of 0-9 and a-z')
  .meta({ description: 'Job id.', example: 'jq4w8e2r6t0y3u5i', pattern: ID_PATTERN_SOURCE });

// Webhook and delivery ids: a job id's shape, each with its own first letter.
const LETTERED_ID = (letter: string, what: string) =>
  z
    .string()
    .regex(new RegExp(`^${letter}[0-9a-z]{15}$`), `must be "${letter}" and 15 characters of 0-9 and a-z`)
    .meta({ description: `${what} id.`, example: `${letter}k3v9q2m8x1c4b7n` });

export const ProjectName = z
  .string()
  .regex(PROJECT_NAME, 'must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit')
  .meta({
    description: 'The project: the tenant boundary. Every stack, job and webhook belongs to one.',
    example: 'payments',
  });

export const WebhookId = LETTERED_ID('w', 'Webhook');
export const DeliveryId = LETTERED_ID('d', 'Delivery');

export const TemplateName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/)
  .meta({ description: "A template's name: its directory's name and its route, /api/{name}.", example: 'ec2instance' });

export const TemplateRef = z
  .object({
    name: TemplateName,
    version: z.string().meta({
      description: "A hash of the template's files (and the local modules they use).",
      example: '3f9c2a1b7d4e5f60',
    }),
  })
  .meta({
    id: 'TemplateRef',
    description:
      "A template and a version of it. A stack's: the version its inputs were last validated against. A " +
      "job's: the version it runs (a create's is its stack's; a retry's or a delete's, the version " +
      'served when it was requested).',
  });
export type TemplateRef = z.infer<typeof TemplateRef>;

export const Timestamp = z.iso.datetime().meta({ example: '2026-11-22T10:00:00.000Z' });
