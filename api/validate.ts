// Parses request parts with their zod schema and turns zod's issues into a
// 400 problem that names every offending field.
import type { z } from 'zod';
import { validationFailed } from '../core/errors.ts';

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationFailed(result.error.issues, where);
}
