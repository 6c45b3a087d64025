// A route is declared once: its method, path, request and response schemas,
// words for the documentation, and its handler. Express mounts it and the
// OpenAPI document describes it from that one declaration.
import type { ResponseConfig, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { type Request, type Response, Router } from 'express';
import type { z } from 'zod';
import { Problem } from '../core/schemas/index.ts';
import { methodNotAllowed } from './problems.ts';
import type { AuditedRequest, RouteAudit } from './audit.ts';

// Routes under this prefix need a token and count against its rate limit.
export const API_PREFIX = '/api';

export type Method = 'get' | 'post' | 'delete' | 'patch';

export type Route = Omit<RouteConfig, 'method' | 'path' | 'operationId' | 'summary'> & {
  method: Method;
  // OpenAPI's form, `{name}` for a parameter.
  path: string;
  // A stable name for generated clients' methods.
  operationId: string;
  summary: string;
  // A change: what its audit entries say (see audit.ts).
  audit?: RouteAudit;
  handle: (req: Request, res: Response) => Promise<void> | void;
};

// One router for a set of routes; every other method on one of their paths
// is a 405 with Allow.
export function routerFor(routes: readonly Route[]): Router {
  const router = Router();
  const byPath = new Map<string, Route[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
  for (const [path, declared] of byPath) {
    const chain = router.route(expressPath(path));
    for (const route of declared) {
      chain[route.method](async (req, res) => {
        if (route.audit) res.locals.audited = auditedRequest(route.audit, req.params);
        await route.handle(req, res);
      });
    }
    chain.all(methodNotAllowed(declared.map((route) => route.method.toUpperCase())));
  }
  return router;
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
