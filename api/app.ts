// The Express application, assembled from its dependencies so tests can build
// one against their own Redis.
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import type { RedisConnection } from '../core/redis.ts';
import swaggerUi from 'swagger-ui-express';
import type { Logger } from '../core/logger.ts';
import type { Authenticator } from '../core/access/authenticator.ts';
import { authenticate, loopbackHostOnly, rateLimit } from './auth.ts';
import { type FailedAuthLimiter, failedAuthLimiter, heldRequestLimit } from './limits.ts';
import { createMetrics, requestLogging } from './observability.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { problemHandler, requireJsonBody, routeNotFound } from './problems.ts';
import { recordDenials } from './audit.ts';
import { auditRoutes } from './routes/audit.ts';
import { API_PREFIX, routerFor, type Route } from './route.ts';
import { jobRoutes } from './routes/jobs.ts';
import { operationRoutes } from './routes/operations.ts';
import { policyRoutes } from './routes/policies.ts';
import { projectRoutes } from './routes/projects.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { stackRoutes } from './routes/stacks.ts';
import { stackChangeRoutes } from './routes/stack-changes.ts';
import { stackJobRoutes } from './routes/stack-jobs.ts';
import { templateRoutes } from './routes/templates.ts';
import { eventTypeRoutes } from './routes/event-types.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import type { WebhookDeps } from '../core/webhooks/manage.ts';
import type { UseCaseDeps } from './wait.ts';
import { createConsole, UI, type UiSessions } from './console/index.ts';
import type { SingleSignOn } from './console/pages/sso.ts';
import type { OidcSettings } from '../core/access/oidc-settings.ts';

export type AppDeps = UseCaseDeps & {
  redis: RedisConnection;
  // Keys of the API's own (the rate limiters') go under it.
  redisPrefix: string;
  logger: Logger;
  // undefined: insecure local mode.
  authenticator: Authenticator | undefined;
  limits: RequestLimits;
  // undefined: /metrics is open.
  metricsTokenDigest: Buffer | undefined;
  corsOrigins: readonly string[];
  // Aborted when the process stops: /readyz then fails so traffic moves
  // away, and requests waiting on jobs answer at once.
  shutdown: AbortSignal;
  webhooks: WebhookDeps;
  // The web console's sessions, and its SSO sign-in (undefined: none).
  // publicOrigin: PUBLIC_URL's origin, when a proxy in front terminates TLS.
  console: {
    sessions: UiSessions;
    sso: SingleSignOn | undefined;
    oidc: OidcSettings | undefined;
    publicOrigin?: string | undefined;
  };
};

// What one client may spend: requests a minute per token, failed sign-ins a
// minute per address, and requests held open at once per token.
export type RequestLimits = { perMinute: number; failedPerAddressPerMinute: number; held: number };

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  const metrics = createMetrics(deps.store, deps.queue);
  app.use(requestLogging(deps.logger));
  app.use(metrics.observe);
  if (!deps.authenticator) app.use(loopbackHostOnly);
  app.use(securityHeaders(deps.corsOrigins));

  const operations = operationRoutes(deps.redis, metrics.registry, deps.shutdown, deps.metricsTokenDigest);
  const api = apiRoutes(deps);
  const document = buildOpenApiDocument([...api, ...operations], deps.catalogue.list());
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use(
    '/swagger',
    swaggerUi.serve,
    // The token typed into "Authorize" stays in the page: kept in localStorage
    // it would outlive the tab and be readable by any script on the origin.
    swaggerUi.setup(document, { customSiteTitle: 'tfcompute API', swaggerOptions: { persistAuthorization: false } }),
  );
  app.use(routerFor(operations));
  // One budget of failed sign-ins per address, for the API's bearer tokens and the console's sign-in form alike.
  const failures = failedAuthLimiter(deps.redis, deps.redisPrefix, deps.limits.failedPerAddressPerMinute);
  app.use(UI, webConsole(deps, failures));

  app.use(
    API_PREFIX,
    authenticate(deps.authenticator, failures),
    rateLimit(deps.redis, deps.redisPrefix, deps.limits.perMinute),
    heldRequestLimit(deps.limits.held),
    requireJsonBody,
    express.json({ limit: '16kb', type: ['application/json', 'application/*+json'] }),
  );
  app.use(routerFor(api));
  app.use(routeNotFound);
  app.use(recordDenials(deps.store));
  app.use(problemHandler(deps.logger));
  return app;
}

function securityHeaders(corsOrigins: readonly string[]): express.RequestHandler[] {
  const handlers = [
    helmet({
      // Swagger UI's page sets its styles inline; scripts stay 'self' only.
      contentSecurityPolicy: { directives: { 'style-src': ["'self'", "'unsafe-inline'"] } },
    }),
  ];
  // Browsers on other origins get no CORS headers unless origins are configured.
  if (corsOrigins.length > 0) {
    handlers.push(
      cors({
        origin: [...corsOrigins],
        exposedHeaders: [
          'Location',
          'X-Request-Id',
          'Preference-Applied',
          'RateLimit-Limit',
          'RateLimit-Remaining',
          'RateLimit-Reset',
          'Retry-After',
          'Idempotent-Replayed',
        ],
        maxAge: 600,
      }),
    );
  }
  return handlers;
}

// Every /api route, each template's among them; each part gets only the
// dependencies it uses.
function apiRoutes(deps: UseCaseDeps & Pick<AppDeps, 'shutdown' | 'webhooks'>): Route[] {
  return [
    ...templateRoutes(deps.catalogue),
    ...deps.catalogue
      .list()
      .flatMap((template) => [
        ...stackRoutes(deps, template),
        ...stackChangeRoutes(deps, template),
        ...stackJobRoutes(deps, template),
      ]),
    ...jobRoutes(deps),
    ...projectRoutes(deps),
    ...tokenRoutes(deps),
    ...eventTypeRoutes(),
    ...webhookRoutes(deps.webhooks),
    ...policyRoutes(deps),
    ...auditRoutes(deps),
  ];
}

// The web console, signing in with the API's tokens, OIDC or its SSO.
function webConsole(
  deps: UseCaseDeps & Pick<AppDeps, 'shutdown' | 'webhooks' | 'authenticator' | 'console'>,
  failures: FailedAuthLimiter,
): express.Router {
  const auth = {
    authenticator: deps.authenticator,
    sessions: deps.console.sessions,
    oidc: deps.console.oidc,
    logger: deps.logger,
    store: deps.store,
    failures,
    publicOrigin: deps.console.publicOrigin,
  };
  return createConsole(deps, auth, deps.console.sso);
}
