// The API process: Redis connections, the HTTP server, and an orderly stop.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthenticator } from '../core/access/authenticator.ts';
import { OidcVerifier } from '../core/access/oidc.ts';
import { apiAccess } from '../core/access/api-access.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { eventSource } from '../core/events/cloud-event.ts';
import { attemptsFor } from '../core/events/retry-schedule.ts';
import { createDeliveryQueue, createQueue } from '../core/queue.ts';
import { closeRedis, connectRedis, describeTarget, type RedisConnection } from '../core/redis.ts';
import { SecretBox } from '../core/secret-box.ts';
import { Store } from '../core/store/index.ts';
import { loadCatalogue } from '../core/templates/index.ts';
import { within } from '../core/within.ts';
import { createApp } from './app.ts';
import { JobWaiter } from './job-waiter.ts';
import { singleSignOn, UiSessions } from './console/index.ts';

export type RunningApi = { port: number; stop(): Promise<void> };

export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  const access = apiAccess(config);
  const catalogue = await loadCatalogue(config.templates, { canEncrypt: config.encryptionKey !== undefined });
  logger.info({ templates: catalogue.list().map((t) => `${t.name}@${t.version}`) }, 'templates read');
  const { redis, subscriber } = await connect(config, logger);
  const store = await openStore(config, redis, logger);
  const queue = createQueue(redis, config.redisPrefix);
  queue.on('error', (error) => logger.warn({ err: error.message }, 'queue error'));
  const authenticator =
    access &&
    createAuthenticator({
      staticTokens: access.staticTokens,
      managedTokens: store.tokens,
      oidc: access.oidc && new OidcVerifier(access.oidc),
    });
  const waiter = new JobWaiter(logger);
  await waiter.start(store, subscriber);

  if (config.api.insecureLocal) {
    logger.warn(
      { host: config.host },
      'AUTH_MODE=insecure-local: the API takes requests without a token; never use this outside a development machine',
    );
  }
  const shutdown = new AbortController();
  const secrets = config.encryptionKey ? new SecretBox(config.encryptionKey) : undefined;
  const deliveries = createDeliveryQueue(redis, config.redisPrefix);
  deliveries.on('error', (error) => logger.warn({ err: error.message }, 'delivery queue error'));
  const webhooks = {
    store,
    deliveries,
    secrets,
    attempts: attemptsFor(config.webhooks),
    source: eventSource(await store.outbox.seed()),
    allowPrivateNetworks: config.webhooks.allowPrivateNetworks,
    limit: config.webhooks.limit,
    limitPerProject: config.webhooks.limitPerProject,
  };
  const app = createApp({
    store,
    queue,
    waiter,
    catalogue,
    secrets,
    webhooks,
    redis,
    redisPrefix: config.redisPrefix,
    logger,
    jobs: { attempts: config.worker.attempts, backoffMs: config.worker.backoffMs },
    maxLiveStacksPerToken: config.api.maxLiveStacksPerToken,
    authenticator,
    limits: {
      perMinute: config.api.rateLimitPerMinute,
      failedPerAddressPerMinute: config.api.rateLimitPerAddressPerMinute,
      held: config.api.maxHeldRequests,
    },
    metricsTokenDigest: config.api.metricsTokenDigest,
    corsOrigins: config.api.corsOrigins,
    shutdown: shutdown.signal,
    console: {
      sessions: new UiSessions(redis, config.redisPrefix, config.api.console.sessionTtlMs),
      sso:
        access?.oidc &&
        config.api.console.oidcClient &&
        singleSignOn(access.oidc, config.api.console.oidcClient.id, config.api.console.oidcClient.secret),
      publicOrigin: config.api.console.publicOrigin,
      oidc: access?.oidc,
    },
  });
  const server = app.listen(config.port, config.host);
  // Over it, Node closes a new connection at once, before reading a byte.
  server.maxConnections = config.api.maxConnections;
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: config.host, port }, 'api listening');

  let stopping: Promise<void> | undefined;
  const closers = [
    () => closeRedis(subscriber),
    () => queue.close(),
    () => deliveries.close(),
    () => closeRedis(redis),
  ];
  return {
    port,
    stop() {
      stopping ??= stop(server, shutdown, closers, config.api.shutdownGraceMs, logger);
      return stopping;
    },
  };
}

// The API's connection and the one its job waiter subscribes on, once the
// first is ready: BullMQ checks the server version once, when the queue is
// built; with the offline queue off that check needs a live connection.
async function connect(
  config: Pick<Config, 'redis'>,
  logger: Logger,
): Promise<{ redis: RedisConnection; subscriber: RedisConnection }> {
  const redis = connectRedis(config.redis, 'api', 'tfcompute-api');
  redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
  const subscriber = connectRedis(config.redis, 'worker', 'tfcompute-api-events');
  subscriber.on('error', (error) => logger.warn({ err: error.message }, 'redis subscriber error'));
  if (redis.status !== 'ready') {
    logger.info({ redis: describeTarget(config.redis) }, 'waiting for Redis');
    await once(redis, 'ready');
  }
  return { redis, subscriber };
}

// The store, its records brought up to date with this version.
async function openStore(
  config: Pick<Config, 'redisPrefix' | 'worker' | 'api' | 'redisWaitReplicas'>,
  redis: RedisConnection,
  logger: Logger,
): Promise<Store> {
  const store = new Store(redis, config.redisPrefix, config.worker.jobRetentionSeconds, {
    retentionDays: config.api.auditRetentionDays,
    waitReplicas: config.redisWaitReplicas,
  });
  const migrated = await store.migrations.run();
  if (Object.values(migrated).some((n) => n > 0))
    logger.info({ migrated }, 'records written by an earlier version were brought up to date');
  return store;
}

// An orderly stop: no new connections, requests drained for up to the grace
// period, then each connection closed in turn, going on if one fails.
async function stop(
  server: Server,
  shutdown: AbortController,
  closers: Array<() => Promise<unknown>>,
  graceMs: number,
  logger: Logger,
): Promise<void> {
  logger.info('api stopping: no new connections; draining requests');
  // Requests waiting on jobs (Prefer: wait, live logs) answer now with
  // what they have; the rest get the grace period to finish.
  shutdown.abort();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  try {
    await within(closed, graceMs);
  } catch {
    logger.warn('requests still open after the grace period; closing their connections');
    server.closeAllConnections();
    await closed;
  }
  for (const close of closers) {
    await close().catch((error: unknown) => logger.warn({ err: error }, 'error while stopping'));
  }
}
