// The Express application, assembled from its dependencies so tests can build
// one against their own Redis.
import express from 'express';
import type { Redis } from 'ioredis';
import swaggerUi from 'swagger-ui-express';
import type { Logger } from '../core/logger.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { problemHandler, requireJsonBody, routeNotFound } from './problems.ts';
import { healthRouter } from './routes/health.ts';
import { jobsRouter } from './routes/jobs.ts';
import { resourcesRouter } from './routes/resources.ts';
import type { UseCaseDeps } from './use-cases.ts';

export type AppDeps = UseCaseDeps & { redis: Redis; logger: Logger };

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  const document = buildOpenApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/swagger', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'tfcompute API' }));
  app.use(healthRouter(deps.redis));

  app.use('/api', requireJsonBody, express.json({ limit: '16kb', type: ['application/json', 'application/*+json'] }));
  app.use(resourcesRouter(deps));
  app.use(jobsRouter(deps));
  app.use(routeNotFound);
  app.use(problemHandler(deps.logger));
  return app;
}
