// The console's protections as a browser sees them: a strict
// Content-Security-Policy (scripts from this origin only, no inline script
// or eval; htmx is configured for that in assets/console.js), no framing,
// and on every request that changes something an Origin check and a
// per-session synchronizer token (csrf-sync, a maintained implementation).
import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { csrfSync } from 'csrf-sync';
import { AppError } from '../../core/errors.ts';
import type { Session } from './sessions.ts';

export const CSRF_FIELD = '_csrf';

export const consoleHeaders: RequestHandler = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'img-src': ["'self'"],
      'connect-src': ["'self'"],
      'object-src': ["'none'"],
      'base-uri': ["'none'"],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'same-origin' },
});

// The SSO button's form is answered with a redirect to the identity
// provider, and a browser holds a redirect after a form to form-action too:
// the sign-in page allows that one origin besides its own.
export function allowFormTarget(res: Response, origin: string): void {
  const policy = res.getHeader('Content-Security-Policy');
  if (typeof policy === 'string')
    res.setHeader('Content-Security-Policy', policy.replace("form-action 'self'", `form-action 'self' ${origin}`));
}

export function sessionOf(req: Request): Session {
  const session = req.res?.locals.session as Session | undefined;
  if (!session) throw new Error('sessionOf() called before the session was loaded');
  return session;
}

export const csrf = csrfSync({
  getTokenFromState: (req) => sessionOf(req).csrfToken,
  storeTokenInState: (req, token) => {
    sessionOf(req).csrfToken = token;
  },
  getTokenFromRequest: (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    const field = body?.[CSRF_FIELD];
    return typeof field === 'string' ? field : req.get('x-csrf-token');
  },
  size: 32,
  errorConfig: {
    statusCode: 403,
    message: 'this form has expired or did not come from the console; reload the page and try again',
    code: 'EBADCSRFTOKEN',
  },
});

// The origin browsers reach the console at: PUBLIC_URL's, when set (a proxy
// in front terminates TLS, so the request itself arrives over http), or the
// request's own.
export function ownOrigin(req: Request, publicOrigin: string | undefined): string {
  return publicOrigin ?? `${req.protocol}://${req.get('host') ?? ''}`;
}

// A change must come from a page of this origin: a browser names the page's
// origin in Origin (and Sec-Fetch-Site) on every POST.
export const sameOriginOnly =
  (publicOrigin: string | undefined): RequestHandler =>
  (req, _res, next) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
    const origin = req.get('origin');
    const own = ownOrigin(req, publicOrigin);
    const site = req.get('sec-fetch-site');
    if ((origin !== undefined && origin !== own) || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
      throw new AppError(
        'csrf-refused',
        `a change to the console must come from its own pages (${own}), not from ${origin ?? site}`,
      );
    }
    next();
  };
