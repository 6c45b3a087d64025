// The Express application, assembled from its dependencies so tests can build
// one against their own Redis.
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import swaggerUi from 'swagger-ui-express';
import type { Logger } from '../core/logger.ts';
import type { ApiToken } from '../core/tokens.ts';
import { authenticate, rateLimit } from './auth.ts';
import { createMetrics, requestLogging } from './observability.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { problemHandler, requireJsonBody, routeNotFound } from './problems.ts';
import { API_PREFIX, routerFor, type Route } from './route.ts';
import { jobRoutes } from './routes/jobs.ts';
import { operationRoutes } from './routes/operations.ts';
import { resourceRoutes } from './routes/resources.ts';
import { templateRoutes } from './routes/templates.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import type { WebhookDeps } from '../core/webhooks/manage.ts';
import type { UseCaseDeps } from './wait.ts';

export type AppDeps = UseCaseDeps & {
  redis: Redis;
  // Keys of the API's own (the rate limiter's) go under it.
  redisPrefix: string;
  logger: Logger;
  // undefined: insecure local mode.
  tokens: readonly ApiToken[] | undefined;
  rateLimitPerMinute: number;
  corsOrigins: readonly string[];
  // Aborted when the process stops: /readyz then fails so traffic moves
  // away, and requests waiting on jobs answer at once.
  shutdown: AbortSignal;
  webhooks: WebhookDeps;
};

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  const metrics = createMetrics(deps.store, deps.queue);
  app.use(requestLogging(deps.logger));
  app.use(metrics.observe);
  app.use(
    helmet({
      // Swagger UI's page sets its styles inline; scripts stay 'self' only.
      contentSecurityPolicy: { directives: { 'style-src': ["'self'", "'unsafe-inline'"] } },
    }),
  );
  // Browsers on other origins get no CORS headers unless origins are configured.
  if (deps.corsOrigins.length > 0) {
    app.use(cors({ origin: [...deps.corsOrigins], exposedHeaders: ['Location', 'X-Request-Id', 'Preference-Applied', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'Idempotent-Replayed'], maxAge: 600 }));
  }

  const operations = operationRoutes(deps.redis, metrics.registry, deps.shutdown);
  const templates = deps.catalogue.list();
  const api: Route[] = [...templateRoutes(deps.catalogue), ...templates.flatMap((template) => resourceRoutes(deps, template)), ...jobRoutes(deps), ...webhookRoutes(deps.webhooks)];
  const document = buildOpenApiDocument([...api, ...operations], templates);
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use(
    '/swagger',
    swaggerUi.serve,
    swaggerUi.setup(document, { customSiteTitle: 'tfcompute API', swaggerOptions: { persistAuthorization: true } }),
  );
  app.use(routerFor(operations));

  app.use(
    API_PREFIX,
    authenticate(deps.tokens),
    rateLimit(deps.redis, deps.redisPrefix, deps.rateLimitPerMinute),
    requireJsonBody,
    express.json({ limit: '16kb', type: ['application/json', 'application/*+json'] }),
  );
  app.use(routerFor(api));
  app.use(routeNotFound);
  app.use(problemHandler(deps.logger));
  return app;
}
