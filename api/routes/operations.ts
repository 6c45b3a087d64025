// Liveness and readiness for orchestrators.
import { Router } from 'express';
import type { Redis } from 'ioredis';
import { AppError } from '../../core/errors.ts';
import { within } from '../../core/within.ts';

const READY_TIMEOUT_MS = 2_000;

export function healthRouter(redis: Redis, shutdown: AbortSignal): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (shutdown.aborted) throw new AppError('backend-unavailable', 'the API is shutting down', { headers: { 'Retry-After': '5' } });
    try {
      await within(redis.ping(), READY_TIMEOUT_MS);
    } catch (error) {
      throw new AppError('backend-unavailable', 'Redis does not answer', { cause: error, headers: { 'Retry-After': '5' } });
    }
    res.json({ status: 'ready' });
  });
  return router;
}
