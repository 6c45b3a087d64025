// Parses request parts with their zod schema: a bad body or query is a 400
// that names every offending field; a bad path parameter is a 400 invalid-id
// that says what the id should look like.
import type { z } from 'zod';
import { AppError, validationFailed } from '../core/errors.ts';

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationFailed(result.error.issues, where);
}

const STACK_OR_JOB_ID = 'ids are 16 characters of 0-9 and a-z';

// What each path parameter should be, by its name.
const PARAM_SHAPES: Readonly<Record<string, string>> = {
  id: STACK_OR_JOB_ID,
  jobId: STACK_OR_JOB_ID,
  project: 'a project name is 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit',
  webhookId: 'webhook ids are "w" and 15 characters of 0-9 and a-z',
  deliveryId: 'delivery ids are "d" and 15 characters of 0-9 and a-z',
  policyId: 'policy ids are "p" and 15 characters of 0-9 and a-z',
  tokenId: 'token ids are "t" and 15 characters of 0-9 and a-z',
};

function invalidParam(name: string, issue: z.core.$ZodIssue | undefined): AppError {
  return new AppError('invalid-id', PARAM_SHAPES[name] ?? `${name}: ${issue?.message ?? 'invalid'}`);
}

// The path parameters; the first one that is malformed answers.
export function parseParams<S extends z.ZodType>(schema: S, params: unknown): z.output<S> {
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw invalidParam(String(issue?.path[0] ?? ''), issue);
}

// One path parameter, parsed with its schema (the console's pages read ids
// from their own paths).
export function parseParam<S extends z.ZodType>(name: string, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidParam(name, result.error.issues[0]);
}
