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
import { failedAuthLimiter, heldRequestLimit } from './limits.ts';
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
  // Keys of the API's own (the rate limiter's) go under it.
  redisPrefix: string;
  logger: Logger;
  // undefined: insecure local mode.
  authenticator: Authenticator | undefined;
  rateLimitPerMinute: number;
  rateLimitPerAddressPerMinute: number;
  maxHeldRequests: number;
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

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  const metrics = createMetrics(deps.store, deps.queue);
  app.use(requestLogging(deps.logger));
  app.use(metrics.observe);
  if (!deps.authenticator) app.use(loopbackHostOnly);
  app.use(
    helmet({
      // Swagger UI's page sets its styles inline; scripts stay 'self' only.
      contentSecurityPolicy: { directives: { 'style-src': ["'self'", "'unsafe-inline'"] } },
    }),
  );
  // Browsers on other origins get no CORS headers unless origins are configured.
  if (deps.corsOrigins.length > 0) {
    app.use(
      cors({
        origin: [...deps.corsOrigins],
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

  const operations = operationRoutes(deps.redis, metrics.registry, deps.shutdown, deps.metricsTokenDigest);
  const templates = deps.catalogue.list();
  const api: Route[] = [
    ...templateRoutes(deps.catalogue),
    ...templates.flatMap((template) => [
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
  const document = buildOpenApiDocument([...api, ...operations], templates);
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
  const failures = failedAuthLimiter(deps.redis, deps.redisPrefix, deps.rateLimitPerAddressPerMinute);
  const consoleAuth = {
    authenticator: deps.authenticator,
    sessions: deps.console.sessions,
    oidc: deps.console.oidc,
    logger: deps.logger,
    store: deps.store,
    failures,
    publicOrigin: deps.console.publicOrigin,
  };
  app.use(UI, createConsole(deps, consoleAuth, deps.console.sso));

  app.use(
    API_PREFIX,
    authenticate(deps.authenticator, failures),
    rateLimit(deps.redis, deps.redisPrefix, deps.rateLimitPerMinute),
    heldRequestLimit(deps.maxHeldRequests),
    requireJsonBody,
    express.json({ limit: '16kb', type: ['application/json', 'application/*+json'] }),
  );
  app.use(routerFor(api));
  app.use(routeNotFound);
  app.use(recordDenials(deps.store));
  app.use(problemHandler(deps.logger));
  return app;
}
