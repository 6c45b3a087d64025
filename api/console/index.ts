// The web console, assembled: its sign-in routes and pages over the API's
// use cases, mounted by app.ts under /ui.
import { Router } from 'express';
import type { UseCaseDeps } from '../wait.ts';
import { adminPages } from './pages/admin.ts';
import { eventPages } from './pages/events.ts';
import { jobPages } from './pages/jobs.ts';
import { signInRoutes } from './pages/sign-in.ts';
import type { SingleSignOn } from './pages/sso.ts';
import { stackPages } from './pages/stacks.ts';
import { templatePages } from './pages/templates.ts';
import { type ConsoleAuth, consoleRouter } from './router.ts';
import type { WebhookDeps } from '../../core/webhooks/manage.ts';

export { UI } from './router.ts';
export { UiSessions } from './sessions.ts';
export { singleSignOn } from './pages/sso.ts';

export function createConsole(
  deps: UseCaseDeps & { shutdown: AbortSignal; webhooks: WebhookDeps },
  auth: ConsoleAuth,
  sso: SingleSignOn | undefined,
): Router {
  const pages = Router();
  pages.use(stackPages(deps), templatePages(deps), jobPages(deps), eventPages(deps, auth), adminPages(deps));
  return consoleRouter(auth, signInRoutes(auth, sso), pages);
}
