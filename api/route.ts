// A route is declared once: its method, path, request and response schemas,
// words for the documentation, and its handler. Express mounts it, the
// OpenAPI document describes it, and its request schemas validate the
// request (as Fastify's route schemas do): the handler receives the parsed
// path parameters, query and body, typed from the declaration.
import type { ResponseConfig, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { type Request, type Response, Router } from 'express';
import type { z } from 'zod';
import { Problem } from '../core/schemas/index.ts';
import { methodNotAllowed } from './problems.ts';
import { parseOrThrow, parseParams } from './validate.ts';
import type { AuditedRequest, RouteAudit } from './audit.ts';

// Routes under this prefix need a token and count against its rate limit.
export const API_PREFIX = '/api';

export type Method = 'get' | 'post' | 'delete' | 'patch';

type Schema = z.ZodType | undefined;
type Parsed<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

// The request's parts as its declaration describes them. Headers are
// documented only; a handler reads the ones it uses.
export type RouteRequest<P extends Schema, Q extends Schema, B extends Schema> = {
  params?: P;
  query?: Q;
  headers?: NonNullable<RouteConfig['request']>['headers'];
  // Parsed with the schema of `application/json` (or else of the first media type).
  body?: { description?: string; required?: boolean; content: Record<string, { schema: B }> };
};

// What is parsed before `authorize` runs.
export type RouteParts<P extends Schema, Q extends Schema> = { params: Parsed<P>; query: Parsed<Q> };

// What the handler receives: the parsed parts, and what `authorize` returned.
export type RouteInput<P extends Schema, Q extends Schema, B extends Schema, A> = RouteParts<P, Q> & {
  body: Parsed<B>;
  authorized: A;
};

// `Route` alone is any route, its input's types erased, as a table of routes
// with different inputs holds them; `route()` declares one with them inferred.
// biome-ignore lint/suspicious/noExplicitAny: the erased form a table of routes with different inputs holds
export type Route<P extends Schema = any, Q extends Schema = any, B extends Schema = any, A = any> = Omit<
  RouteConfig,
  'method' | 'path' | 'operationId' | 'summary' | 'request'
> & {
  method: Method;
  // OpenAPI's form, `{name}` for a parameter.
  path: string;
  // A stable name for generated clients' methods.
  operationId: string;
  summary: string;
  request?: RouteRequest<P, Q, B>;
  // A change: what its audit entries say (see audit.ts).
  audit?: RouteAudit;
  // Runs after the path parameters and query are parsed and before the body
  // is, so a caller without the role learns nothing from the body's errors.
  authorize?: (req: Request, parts: RouteParts<P, Q>) => A | Promise<A>;
  handle: (req: Request, res: Response, input: RouteInput<P, Q, B, A>) => Promise<void> | void;
};

// Declares a route, its input's types inferred from its request schemas.
export function route<
  P extends Schema = undefined,
  Q extends Schema = undefined,
  B extends Schema = undefined,
  A = undefined,
>(declared: Route<P, Q, B, A>): Route {
  return declared;
}

// One router for a set of routes; every other method on one of their paths
// is a 405 with Allow.
export function routerFor(routes: readonly Route[]): Router {
  const router = Router();
  const byPath = new Map<string, Route[]>();
  for (const declared of routes) byPath.set(declared.path, [...(byPath.get(declared.path) ?? []), declared]);
  for (const [path, declared] of byPath) {
    const chain = router.route(expressPath(path));
    for (const one of declared) {
      chain[one.method](async (req, res) => {
        if (one.audit) res.locals.audited = auditedRequest(one.audit, req.params);
        await one.handle(req, res, await parsedInput(one, req));
      });
    }
    chain.all(methodNotAllowed(declared.map((one) => one.method.toUpperCase())));
  }
  return router;
}

// Path parameters, then query, then `authorize`, then the body.
async function parsedInput(declared: Route, req: Request): Promise<RouteInput<Schema, Schema, Schema, unknown>> {
  const { params, query, body } = declared.request ?? {};
  const parts: RouteParts<Schema, Schema> = {
    params: params && parseParams(params, req.params),
    query: query && parseOrThrow(query, req.query, 'query'),
  };
  const authorized = await declared.authorize?.(req, parts);
  const content = body && (body.content['application/json'] ?? Object.values(body.content)[0]);
  return { ...parts, authorized, body: content && parseOrThrow(content.schema, req.body ?? {}, 'body') };
}

function auditedRequest(audit: RouteAudit, params: Request['params']): AuditedRequest {
  const id = audit.param === undefined ? undefined : params[audit.param];
  return { action: audit.action, target: { type: audit.target, id: typeof id === 'string' ? id : null } };
}

// `/api/jobs/{jobId}` -> `/api/jobs/:jobId`
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

export function isApiRoute(path: string): boolean {
  return path === API_PREFIX || path.startsWith(`${API_PREFIX}/`);
}

export const problem = (description: string): ResponseConfig => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});

export const json = (description: string, schema: z.ZodType): ResponseConfig => ({
  description,
  content: { 'application/json': { schema } },
});
