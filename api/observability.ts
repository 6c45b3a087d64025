// What an operator sees of the API: a request id on every response and log
// line, one JSON log line per request, and the Prometheus metrics at /metrics.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { type Metric, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import type { JobQueue } from '../core/queue.ts';
import { DRIFT_STATUSES, STACK_STATUSES } from '../core/schemas/index.ts';
import { JOB_DURATION_BUCKETS, type Store } from '../core/store/index.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// Keeps a caller's X-Request-Id when it is sane, so one id follows a request
// through a proxy; makes one otherwise.
export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'requestId' },
    quietReqLogger: true,
    // Health probes and scrapes every few seconds would drown the rest.
    autoLogging: { ignore: (req) => /^\/(healthz|readyz|metrics)$/.test(req.url ?? '') },
    customLogLevel: (_req, res) =>
      res.statusCode >= 500 && res.statusCode !== 503 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

export type ApiMetrics = { registry: Registry; observe: RequestHandler };

export function createMetrics(store: Store, queue: JobQueue): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tfcompute_api_' });

  const http = new Histogram({
    name: 'tfcompute_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300],
    registers: [registry],
  });

  // Read from Redis at scrape time, so every API process reports the same,
  // whole-installation figures.
  registry.registerMetric(
    gaugeFromRedis('tfcompute_queue_jobs', 'BullMQ jobs by state', async () => {
      const counts = await queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'prioritized',
        'waiting-children',
        'failed',
      );
      return Object.entries(counts).map(([state, value]) => ({ labels: { state }, value }));
    }),
  );
  registry.registerMetric(
    gaugeFromRedis('tfcompute_resources', 'Resources by status', async () => {
      const counts = await store.stacks.countByStatus();
      return STACK_STATUSES.map((status) => ({ labels: { status }, value: counts[status] }));
    }),
  );
  registry.registerMetric(
    gaugeFromRedis('tfcompute_stacks_drift', 'Live stacks by their last drift result', async () => {
      const counts = await store.stacks.countByDrift();
      return DRIFT_STATUSES.map((status) => ({ labels: { status }, value: counts[status] }));
    }),
  );
  registry.registerMetric(jobDurationFromRedis(store));
  registry.registerMetric(
    fromRedis(
      'counter',
      'tfcompute_policy_evaluations_total',
      'Policy evaluations on job plans, by policy id and outcome (passed, failed; an evaluation error is a failure)',
      async () => {
        const counts = await store.metrics.policyEvaluations();
        return Object.entries(counts).map(([field, value]) => {
          const [policy = '', outcome = ''] = field.split('|');
          return { labels: { policy, outcome }, value: Number(value) };
        });
      },
    ),
  );
  registry.registerMetric(
    fromRedis(
      'counter',
      'tfcompute_events_total',
      'Lifecycle events handed on to webhooks (dispatched), or not sent because their data did not match ' +
        'their schema (invalid)',
      async () => {
        const counts = await store.outbox.counts();
        return ['dispatched', 'invalid'].map((result) => ({ labels: { result }, value: counts[result] ?? 0 }));
      },
    ),
  );
  registry.registerMetric(
    fromRedis(
      'counter',
      'tfcompute_webhook_delivery_attempts_total',
      'Webhook delivery attempts by outcome: delivered, retried (to be tried again), failed (given up or refused)',
      async () => {
        const counts = await store.outbox.counts();
        return ['delivered', 'retried', 'failed'].map((outcome) => ({
          labels: { outcome },
          value: counts[outcome] ?? 0,
        }));
      },
    ),
  );

  const observe: RequestHandler = (req, res, next) => {
    const end = http.startTimer();
    res.on('finish', () => {
      // The route template, never the raw URL, so ids do not become label values.
      const route = req.route?.path
        ? `${req.baseUrl}${String(req.route.path)}`
        : req.path.startsWith('/swagger')
          ? '/swagger'
          : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
  return { registry, observe };
}

type Sample = { labels: Record<string, string>; value: number; metricName?: string };

// prom-client accepts any object with a name and a get() returning its samples.
function fromRedis(type: 'gauge' | 'counter', name: string, help: string, read: () => Promise<Sample[]>): Metric {
  return {
    name,
    help,
    get: async () => ({ name, help, type, values: await read(), aggregator: 'max' }),
  } as unknown as Metric;
}

function gaugeFromRedis(name: string, help: string, read: () => Promise<Sample[]>): Metric {
  return fromRedis('gauge', name, help, read);
}

// The job duration histogram the workers keep in Redis (see core/store/index.ts).
function jobDurationFromRedis(store: Store): Metric {
  const name = 'tfcompute_job_duration_seconds';
  const help = 'Job duration from first start to finish, by action and outcome (cancelled before starting: 0)';
  return {
    name,
    help,
    get: async () => {
      const hash = await store.metrics.jobDurations();
      const series = new Map<string, { action: string; outcome: string }>();
      for (const field of Object.keys(hash)) {
        const [action = '', outcome = ''] = field.split('|');
        series.set(`${action}|${outcome}`, { action, outcome });
      }
      const values: Sample[] = [];
      for (const [base, labels] of series) {
        for (const le of JOB_DURATION_BUCKETS) {
          values.push({
            metricName: `${name}_bucket`,
            labels: { ...labels, le: String(le) },
            value: Number(hash[`${base}|${le}`] ?? 0),
          });
        }
        const count = Number(hash[`${base}|count`] ?? 0);
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
        values.push({ metricName: `${name}_sum`, labels, value: Number(hash[`${base}|sum`] ?? 0) });
        values.push({ metricName: `${name}_count`, labels, value: count });
      }
      return { name, help, type: 'histogram', values, aggregator: 'max' };
    },
  } as unknown as Metric;
}
