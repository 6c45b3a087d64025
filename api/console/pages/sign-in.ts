// Signing in and out of the console. A token sign-in is checked by the API's
// own authenticator; the session that holds it gets a new id (so an id a
// visitor was given before signing in is worth nothing after) and a new
// CSRF token. Signing out deletes the session in Redis.
import { type Request, type Response, Router } from 'express';
import { AppError } from '../../../core/errors.ts';
import { clearSessionCookie, type ConsoleAuth, setSessionCookie, UI } from '../router.ts';
import { allowFormTarget, csrf, ownOrigin, sessionOf } from '../security.ts';
import type { Credential, Session } from '../sessions.ts';
import { sendPage } from '../views.ts';
import type { SignedIn, SingleSignOn } from './sso.ts';

export function signInRoutes(auth: ConsoleAuth, sso: SingleSignOn | undefined): Router {
  const router = Router();
  const loginPage = async (res: Response, status = 200, error?: string) => {
    if (sso) allowFormTarget(res, await sso.formTarget());
    sendPage(
      res,
      'login',
      { title: 'Sign in', error, sso: sso !== undefined, tokenless: auth.authenticator === undefined },
      status,
    );
  };

  router.get('/login', (_req, res) => loginPage(res));

  router.post('/login', async (req, res) => {
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
    if (!auth.authenticator) return signedIn(req, res, auth, { kind: 'token', token: '' });
    await auth.failures.refuseIfSpent(req);
    const found =
      token && token.length <= 8192 ? await auth.authenticator.authenticate(token) : { error: 'invalid' as const };
    if ('principal' in found) return signedIn(req, res, auth, { kind: 'token', token });
    if (found.error === 'no-grants')
      return loginPage(
        res,
        403,
        `"${found.subject}" is signed in, and no OIDC binding grants it a role in any project.`,
      );
    await auth.failures.count(req);
    await loginPage(res, 401, 'That token is not valid: it is wrong, expired or revoked.');
  });

  router.post('/logout', async (req, res) => {
    await auth.sessions.end(sessionOf(req).id);
    clearSessionCookie(req, res, auth.publicOrigin);
    res.redirect(303, `${UI}/login`);
  });

  if (sso) {
    router.post('/login/sso', async (req, res) => {
      const session = sessionOf(req);
      const { url, flow } = await sso.start(`${ownOrigin(req, auth.publicOrigin)}${UI}/login/sso/callback`);
      session.sso = flow;
      await auth.sessions.save(session);
      res.redirect(303, url);
    });
    // A refused answer is told on the sign-in page, whose button starts again.
    router.get('/login/sso/callback', async (req, res) => {
      const session = sessionOf(req);
      const flow = session.sso;
      if (!flow)
        return loginPage(res, 401, 'This sign-in was not started here, or has already been used; sign in again.');
      session.sso = undefined;
      await auth.sessions.save(session);
      let signed: SignedIn;
      try {
        signed = await sso.finish(new URL(req.originalUrl, ownOrigin(req, auth.publicOrigin)), flow);
      } catch (error) {
        if (error instanceof AppError && error.code === 'unauthorized') return loginPage(res, 401, `${error.message}.`);
        throw error;
      }
      if (signed.outcome === 'no-grants')
        return loginPage(
          res,
          403,
          `"${signed.subject}" is signed in, and no OIDC binding grants it a role in any project.`,
        );
      await signedIn(req, res, auth, signed.credential);
    });
  }
  return router;
}

async function signedIn(req: Request, res: Response, auth: ConsoleAuth, credential: Credential): Promise<void> {
  const before = sessionOf(req);
  await auth.sessions.end(before.id);
  const session: Session = {
    ...auth.sessions.start(),
    credential: credential.kind === 'sso' ? { ...credential, until: Date.now() + auth.sessions.ttlMs } : credential,
  };
  res.locals.session = session;
  csrf.generateToken(req, true);
  await auth.sessions.save(session);
  setSessionCookie(req, res, session, auth.publicOrigin);
  res.redirect(303, `${UI}/`);
}
