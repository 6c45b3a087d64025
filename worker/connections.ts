// A worker process's Redis: its connection, the store over it, and the
// Terraform jobs' queue (a job hands itself back or queues the next through
// it); closed last when the worker stops.
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { createQueue, type JobQueue } from '../core/queue.ts';
import { closeRedis, connectRedis, type RedisConnection } from '../core/redis.ts';
import { Store } from '../core/store/index.ts';
import { within } from '../core/within.ts';

export type RedisSettings = Pick<Config, 'redis' | 'redisPrefix' | 'redisWaitReplicas'> & {
  jobRetentionSeconds: number;
};

export type Connections = {
  connection: RedisConnection;
  store: Store;
  queue: JobQueue;
  // The connection's status lags an outage that has just begun, so this asks Redis.
  isReachable(): Promise<boolean>;
  closeQueue(): Promise<void>;
  close(): Promise<void>;
};

export function openConnections(settings: RedisSettings, workerId: string, logger: Logger): Connections {
  const connection = connectRedis(settings.redis, 'worker', `tfcompute-worker:${workerId}`);
  const store = new Store(connection, settings.redisPrefix, settings.jobRetentionSeconds, {
    waitReplicas: settings.redisWaitReplicas,
  });
  const queue = createQueue(connection, settings.redisPrefix);
  // Unheard, BullMQ prints its errors (each reconnect during a failover) to stderr.
  queue.on('error', (error) => logger.warn({ err: error.message }, 'queue error'));
  return {
    connection,
    store,
    queue,
    async isReachable() {
      try {
        await within(connection.ping(), 500);
        return true;
      } catch {
        return false;
      }
    },
    closeQueue: () => within(queue.close(), 2_000),
    close: () => closeRedis(connection),
  };
}
