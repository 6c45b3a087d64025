// The audit log's side of the API: who a request acts as and its request id,
// handed to the use cases, whose changes record their own entries; and the
// attempts refused for want of a role, which change nothing and are recorded
// here, as `denied` entries.
import type { ErrorRequestHandler, Request } from 'express';
import { AppError } from '../core/errors.ts';
import type { AuditAction } from '../core/schemas/index.ts';
import { type Actor, type AuditContext, INSTALLATION, type Store } from '../core/store/index.ts';
import { principalOf } from './principal.ts';

// What a route that makes a change declares: its action, and the type of
// its target, whose id is the path parameter `param` (none: a create).
export type RouteAudit = { action: AuditAction; target: string; param?: string };

// A route's audit, with the target's id, for a refusal's entry (route.ts sets it).
export type AuditedRequest = { action: AuditAction; target: { type: string; id: string | null } };

export function auditOf(req: Request): AuditContext {
  const { kind, name } = principalOf(req);
  return { actor: { kind, name }, requestId: requestIdOf(req) };
}

function requestIdOf(req: Request): string {
  return typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : '';
}

// Refusals for want of a role, by the project the caller acted in: its own
// project when it has a role there that is too low, INSTALLATION when it has
// none (the 404 that hides another project's objects: recorded where only
// owners read, so no project's log tells of another's).
const denials = new WeakMap<object, { project: string; actor?: Actor | undefined }>();

export function denial<E extends Error>(error: E, project: string, actor?: Actor): E {
  denials.set(error, { project, actor });
  return error;
}

// A 403 for want of a role no route marked (owner-only and installation-wide
// changes) is the installation's.
function denialOf(error: unknown): { project: string; actor?: Actor | undefined } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const marked = denials.get(error);
  if (marked) return marked;
  return error instanceof AppError && error.code === 'insufficient-role' ? { project: INSTALLATION } : undefined;
}

// Records a refused change before the problem is rendered. Reads refused
// are not recorded: they change nothing, and a polling dashboard would
// fill the log. A request refused before any route (an identity with no
// grants) is recorded when it would have changed something.
export function recordDenials(store: Store): ErrorRequestHandler {
  return async (error, req, res, next) => {
    const denied = denialOf(error);
    const route = res.locals.audited as AuditedRequest | undefined;
    const changing = !['GET', 'HEAD', 'OPTIONS'].includes(req.method);
    if (denied && (route || (denied.actor && changing))) {
      const actor = denied.actor ?? auditOf(req).actor;
      const { action, target } = route ?? {
        action: 'api.request' as const,
        target: { type: 'route', id: `${req.method} ${req.path}`.slice(0, 512) },
      };
      try {
        await store.audit.denied({ actor, requestId: requestIdOf(req), action }, denied.project, target);
      } catch (failure) {
        // The caller is refused all the same; the log says why it is missing.
        req.log.error({ err: failure }, 'could not record a denied attempt in the audit log');
      }
    }
    next(error);
  };
}
