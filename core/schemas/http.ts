// What HTTP requests carry, and the list response: the API validates
// requests with these, and the OpenAPI document is generated from them.
import { z } from 'zod';
import { JobId, ProjectName, StackId } from './identifiers.ts';
import { Job } from './jobs.ts';
import { DriftStatus } from './plans.ts';
import { Stack, StackStatus } from './stacks.ts';

const TTL_UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const MAX_TTL_SECONDS = 90 * 86_400;

// "90s", "30m", "2h", "7d" to seconds; at most 90 days.
export const Ttl = z
  .string()
  .regex(/^[1-9][0-9]{0,6}[smhd]$/, 'a whole number and a unit: s, m, h or d, for example "2h"')
  .transform((value) => Number(value.slice(0, -1)) * TTL_UNITS[value.at(-1) as keyof typeof TTL_UNITS])
  .refine((seconds) => seconds <= MAX_TTL_SECONDS, 'at most 90 days')
  .meta({
    type: 'string',
    description:
      'Destroy the stack automatically this long after it is created: a whole number and s, m, h or d; ' +
      'at most 90 days.',
    example: '2h',
  });

export const StackList = z
  .object({
    items: z.array(Stack),
    next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last.' }),
  })
  .meta({ id: 'ResourceList', description: 'A page of resources, newest first.' });

export const JobList = z
  .object({
    items: z.array(Job),
    next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last.' }),
  })
  .meta({ id: 'JobList', description: "A page of a stack's jobs, newest first." });

export const ListQuery = z.strictObject({
  project: ProjectName.optional().meta({ description: 'Only the stacks of this project.' }),
  status: StackStatus.optional().meta({ description: 'Only resources in this status.' }),
  drift: DriftStatus.optional().meta({
    description: 'Only stacks whose last drift result is this one (`unknown`: deleted stacks excluded).',
  }),
  limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Page size, 1-100.' }),
  cursor: z.string().max(200).optional().meta({ description: 'Opaque cursor from a previous page.' }),
});

export const StackIdParams = z.object({ id: StackId });

// A PATCH body; `inputs` is checked against the template once merged.
export const UpdateRequest = z
  .strictObject({
    inputs: z
      .record(z.string(), z.unknown())
      .default({})
      .meta({
        description:
          "Merged into the stack's inputs per RFC 7396 (JSON Merge Patch): a key set to null is removed " +
          "and falls back to the variable's default; objects merge key by key.",
      }),
    auto_apply: z
      .boolean()
      .default(false)
      .meta({ description: 'Apply the plan at once instead of waiting for `POST /api/jobs/{jobId}/apply`.' }),
  })
  .meta({ id: 'UpdateRequest', example: { inputs: { node_count: 3, tags: { env: null } }, auto_apply: false } });
export const JobIdParams = z.object({ jobId: JobId });
