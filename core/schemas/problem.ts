// RFC 9457 problem details: the body of every error response.
import { z } from 'zod';

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string().optional(),
    code: z.string().meta({ description: 'Stable machine-readable error code.' }),
    request_id: z
      .string()
      .optional()
      .meta({ description: 'The request id, also in the X-Request-Id header and the logs.' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'Per-field validation errors.' }),
  })
  .meta({
    id: 'Problem',
    description: 'RFC 9457 problem details (media type application/problem+json).',
    example: {
      type: 'urn:tfcompute:problem:validation-failed',
      title: 'Request validation failed',
      status: 400,
      detail: 'node_count: Too big: expected number to be <=10',
      code: 'validation-failed',
      errors: [{ path: 'node_count', message: 'Too big: expected number to be <=10' }],
    },
  });
export type Problem = z.infer<typeof Problem>;
