// The web console under /ui: server-rendered pages over the same use cases
// and the same authorization as the REST routes (core/lifecycle, access.ts).
// Each request finds its session, and through it a principal: the session's
// API token is verified again by the API's own authenticator, so a revoked
// token ends its sessions at once.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, Router } from 'express';
import { parseCookie, stringifySetCookie } from 'cookie';
import { principalForClaims } from '../../core/access/oidc.ts';
import { type Principal, roleIn } from '../../core/access/roles.ts';
import type { OidcSettings } from '../../core/access/oidc-settings.ts';
import type { Authenticator } from '../../core/access/authenticator.ts';
import { AppError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Store } from '../../core/store/index.ts';
import { isInstallationAdmin } from '../access.ts';
import { recordDenials } from '../audit.ts';
import { consoleHeaders, csrf, ownOrigin, sameOriginOnly, sessionOf } from './security.ts';
import type { FailedAuthLimiter } from '../limits.ts';
import type { Session, UiSessions } from './sessions.ts';
import { sendPage } from './views.ts';

export const UI = '/ui';
const COOKIE = 'tfc_session';
const LOCAL: Principal = { kind: 'local', name: 'local', key: 'local', owner: true, grants: new Map() };

export type ConsoleAuth = {
  // undefined: the insecure local mode, where every session is the local owner.
  authenticator: Authenticator | undefined;
  sessions: UiSessions;
  oidc: OidcSettings | undefined;
  logger: Logger;
  store: Store;
  // Failed sign-ins count against the address's budget, as failed bearer tokens do.
  failures: FailedAuthLimiter;
  // PUBLIC_URL's origin; undefined: the origin the request arrived at.
  publicOrigin: string | undefined;
};

const assetsDir = fileURLToPath(new URL('./assets', import.meta.url));
const require = createRequire(import.meta.url);
const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

// The router for /ui: `pages` are mounted after the session is loaded and
// the request checked; `signIn` before a principal is needed.
export function consoleRouter(auth: ConsoleAuth, signIn: Router, pages: Router): Router {
  const router = Router();
  router.use(consoleHeaders);
  // htmx and its SSE extension from the API itself: no CDN, works offline.
  router.use('/assets/htmx', express.static(path.join(packageDir('htmx.org'), 'dist'), { index: false, maxAge: '1h' }));
  router.use(
    '/assets/htmx-ext-sse',
    express.static(path.join(packageDir('htmx-ext-sse'), 'dist'), { index: false, maxAge: '1h' }),
  );
  router.use('/assets', express.static(assetsDir, { index: false, maxAge: '1h' }));
  router.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 500 }));
  router.use(loadSession(auth));
  router.use(sameOriginOnly(auth.publicOrigin));
  router.use(csrf.csrfSynchronisedProtection);
  router.use(signIn);
  router.use(requirePrincipal(auth));
  router.use(pages);
  router.use((_req, res) => {
    sendPage(res, 'error', { title: 'Not found', message: 'There is no page here.' }, 404);
  });
  router.use(recordDenials(auth.store));
  router.use(errorPage(auth.logger));
  return router;
}

// Finds the request's session, or starts one (stored once it holds something).
function loadSession(auth: ConsoleAuth): RequestHandler {
  return async (req, res, next) => {
    const id = parseCookie(req.get('cookie') ?? '')[COOKIE];
    const found = id === undefined ? undefined : await auth.sessions.read(id);
    res.locals.session = found ?? auth.sessions.start();
    res.locals.page = { csrfToken: csrf.generateToken(req) };
    if (!found) {
      await auth.sessions.save(sessionOf(req));
      setSessionCookie(req, res, sessionOf(req), auth.publicOrigin);
    }
    next();
  };
}

// Secure whenever browsers reach the console over https, a TLS-terminating proxy's included.
export function setSessionCookie(
  req: Request,
  res: Response,
  session: Session,
  publicOrigin: string | undefined,
): void {
  const secure = ownOrigin(req, publicOrigin).startsWith('https:');
  res.append(
    'Set-Cookie',
    stringifySetCookie({ name: COOKIE, value: session.id, httpOnly: true, sameSite: 'lax', secure, path: UI }),
  );
}

export function clearSessionCookie(req: Request, res: Response, publicOrigin: string | undefined): void {
  const secure = ownOrigin(req, publicOrigin).startsWith('https:');
  res.append(
    'Set-Cookie',
    stringifySetCookie({ name: COOKIE, value: '', httpOnly: true, sameSite: 'lax', secure, path: UI, maxAge: 0 }),
  );
}

// The session's principal, as the API would find it now; without one, the
// sign-in page (a fragment request is told to load it, as htmx does).
function requirePrincipal(auth: ConsoleAuth): RequestHandler {
  return async (req, res, next) => {
    const session = sessionOf(req);
    const principal = await principalOfSession(auth, session);
    if (!principal) {
      if (session.credential) {
        session.credential = undefined;
        await auth.sessions.save(session);
      }
      if (req.get('hx-request')) {
        res.set('HX-Redirect', `${UI}/login`).status(401).end();
        return;
      }
      if (req.method !== 'GET') throw new AppError('unauthorized', 'the session has ended; sign in again');
      res.redirect(303, `${UI}/login`);
      return;
    }
    res.locals.principal = principal;
    res.locals.page = {
      ...res.locals.page,
      principal,
      isAdmin:
        isInstallationAdmin(principal) ||
        [...principal.grants.keys()].some((project) => roleIn(principal, project) === 'admin'),
    };
    next();
  };
}

// The principal of the session with this id as it stands now: none once the
// session ended, expired, or its token was revoked. Reading it does not
// count as using the session.
export async function currentPrincipal(auth: ConsoleAuth, sessionId: string): Promise<Principal | undefined> {
  const session = await auth.sessions.read(sessionId, false);
  return session && principalOfSession(auth, session);
}

async function principalOfSession(auth: ConsoleAuth, session: Session): Promise<Principal | undefined> {
  const credential = session.credential;
  if (!auth.authenticator) return credential ? LOCAL : undefined;
  if (!credential) return undefined;
  if (credential.kind === 'token') {
    const found = await auth.authenticator.authenticate(credential.token);
    return 'principal' in found ? found.principal : undefined;
  }
  if (!auth.oidc || (credential.until !== undefined && Date.now() >= credential.until)) return undefined;
  const verified = principalForClaims(credential.claims, auth.oidc.bindings);
  return verified.outcome === 'valid' ? verified.principal : undefined;
}

// An error as a page: its status, and what the API's problem would say.
function errorPage(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const status =
      error instanceof AppError
        ? error.status
        : typeof error?.statusCode === 'number'
          ? (error.statusCode as number)
          : 500;
    if (status >= 500) (req.log ?? logger).error({ err: error }, 'console page failed');
    const message = status >= 500 ? 'Something went wrong; the API log has the details.' : String(error.message);
    if (res.headersSent) return void res.end();
    // Retry-After of a 429, as the API's problem responses carry it.
    if (error instanceof AppError) res.set(error.headers);
    sendPage(
      res,
      'error',
      { title: status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Something went wrong', message },
      status,
    );
  };
}
