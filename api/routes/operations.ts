// Operations: liveness and readiness for orchestrators, and Prometheus metrics.
// None needs an API token; /metrics needs METRICS_TOKEN when it is set.
import { timingSafeEqual } from 'node:crypto';
import type { RedisConnection } from '../../core/redis.ts';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { digestToken } from '../../core/access/static-tokens.ts';
import { within } from '../../core/within.ts';
import { bearerToken } from '../auth.ts';
import { json, problem, type Route, route } from '../route.ts';
import { unavailable } from './common.ts';

const READY_TIMEOUT_MS = 2_000;
const TAG = 'operations';

// `metricsToken`: the SHA-256 of METRICS_TOKEN, compared in constant time; undefined: /metrics is open.
export function operationRoutes(
  redis: RedisConnection,
  metrics: Registry,
  shutdown: AbortSignal,
  metricsToken: Buffer | undefined,
): Route[] {
  return [
    route({
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      tags: [TAG],
      summary: 'Prometheus metrics',
      description:
        'HTTP latency by route and status (this process), queue depth by state, job duration by action and outcome, ' +
        'and resources by status (the whole installation, read from Redis). When the installation sets ' +
        'METRICS_TOKEN, send it: `Authorization: Bearer <METRICS_TOKEN>` (not an API token).',
      security: [],
      responses: {
        200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: z.string() } } },
        401: problem('METRICS_TOKEN is set and the request does not carry it.'),
      },
      async handle(req, res) {
        const presented = bearerToken(req);
        if (metricsToken && !(presented && timingSafeEqual(digestToken(presented), metricsToken))) {
          throw new AppError(
            'unauthorized',
            'the metrics need the metrics token: Authorization: Bearer <METRICS_TOKEN>',
            { headers: { 'WWW-Authenticate': 'Bearer realm="tfcompute-metrics"' } },
          );
        }
        res.type(metrics.contentType).send(await metrics.metrics());
      },
    }),
    route({
      method: 'get',
      path: '/healthz',
      operationId: 'getLiveness',
      tags: [TAG],
      summary: 'Liveness: the process is up',
      description: 'Answers as long as the process runs; it does not ask Redis.',
      security: [],
      responses: { 200: json('Alive.', z.object({ status: z.literal('ok') })) },
      handle(_req, res) {
        res.json({ status: 'ok' });
      },
    }),
    route({
      method: 'get',
      path: '/readyz',
      operationId: 'getReadiness',
      tags: [TAG],
      summary: 'Readiness: Redis answers and the process is not stopping',
      description: 'Fails while the process stops, so a load balancer moves traffic away before it closes.',
      security: [],
      responses: { 200: json('Ready.', z.object({ status: z.literal('ready') })), 503: unavailable },
      async handle(_req, res) {
        if (shutdown.aborted)
          throw new AppError('backend-unavailable', 'the API is shutting down', { headers: { 'Retry-After': '5' } });
        try {
          await within(redis.ping(), READY_TIMEOUT_MS);
        } catch (error) {
          throw new AppError('backend-unavailable', 'Redis does not answer', {
            cause: error,
            headers: { 'Retry-After': '5' },
          });
        }
        res.json({ status: 'ready' });
      },
    }),
  ];
}
