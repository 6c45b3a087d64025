// Request headers and responses that several routes document alike.
import type { ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { MAX_WAIT_SECONDS } from '../prefer.ts';
import { problem } from '../route.ts';

export const PreferHeader = z.object({
  prefer: z
    .string()
    .optional()
    .meta({
      description:
        `RFC 7240. \`wait=N\` holds the response up to N seconds (at most ${MAX_WAIT_SECONDS}) until the ` +
        `job finishes.`,
      example: 'wait=60',
    }),
});

export const IdempotencyHeaders = PreferHeader.extend({
  'idempotency-key': z
    .string()
    .max(257)
    .optional()
    .meta({
      description:
        'IETF httpapi draft: repeating a POST with the same key and body returns the resource the first one made ' +
        '(header `Idempotent-Replayed: true`) instead of making another; the same key with a different body is 422. ' +
        'Keys belong to the token and are kept 24 h.',
      example: '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
    }),
});

export const locationHeader = {
  Location: { description: 'URL of the resource.', schema: { type: 'string' as const } },
};
export const jobLocationHeader = { Location: { description: 'URL of the job.', schema: { type: 'string' as const } } };
export const preferenceApplied = {
  'Preference-Applied': {
    description: 'Echoes the wait preference that was honoured.',
    schema: { type: 'string' as const },
  },
};

export const badId: ResponseConfig = problem('The id is not 16 characters of 0-9 and a-z.');
export const unavailable: ResponseConfig = problem('Redis is unreachable; retry after the Retry-After interval.');

// A project named by `?project=` (or a path) that does not exist, or that the
// caller has no role in: both answer alike.
export const noProject: ResponseConfig = problem(
  'No such project, or none the caller has a role in (`project-not-found`).',
);
// The same, for a list narrowed to one project.
export const noListedProject: ResponseConfig = problem(
  '`?project=` names no project the caller has a role in (`project-not-found`).',
);
export const belowAdmin: ResponseConfig = problem(
  "The caller's role in the project is below admin (`insufficient-role`).",
);
