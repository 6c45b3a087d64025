// Operations: liveness and readiness for orchestrators, and Prometheus metrics.
// None needs a token.
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { within } from '../../core/within.ts';
import { json, type Route } from '../route.ts';
import { unavailable } from './common.ts';

const READY_TIMEOUT_MS = 2_000;
const TAG = 'operations';

export function operationRoutes(redis: Redis, metrics: Registry, shutdown: AbortSignal): Route[] {
  return [
    {
      method: 'get',
      path: '/metrics',
      operationId: 'getMetrics',
      tags: [TAG],
      summary: 'Prometheus metrics',
      description:
        'HTTP latency by route and status (this process), queue depth by state, job duration by action and outcome, and resources by status (the whole installation, read from Redis).',
      security: [],
      responses: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: z.string() } } } },
      async handle(_req, res) {
        res.type(metrics.contentType).send(await metrics.metrics());
      },
    },
    {
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
    },
    {
      method: 'get',
      path: '/readyz',
      operationId: 'getReadiness',
      tags: [TAG],
      summary: 'Readiness: Redis answers and the process is not stopping',
      description: 'Fails while the process stops, so a load balancer moves traffic away before it closes.',
      security: [],
      responses: { 200: json('Ready.', z.object({ status: z.literal('ready') })), 503: unavailable },
      async handle(_req, res) {
        if (shutdown.aborted) throw new AppError('backend-unavailable', 'the API is shutting down', { headers: { 'Retry-After': '5' } });
        try {
          await within(redis.ping(), READY_TIMEOUT_MS);
        } catch (error) {
          throw new AppError('backend-unavailable', 'Redis does not answer', { cause: error, headers: { 'Retry-After': '5' } });
        }
        res.json({ status: 'ready' });
      },
    },
  ];
}
