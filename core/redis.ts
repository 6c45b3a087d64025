// The one place that opens a Redis connection: a single server (REDIS_URL),
// the primary that Sentinel names (REDIS_SENTINELS), or a Redis Cluster
// (REDIS_CLUSTER_NODES). Every connection of the API, the workers, BullMQ and
// the scripts comes from here (or is duplicated from one that did), so each
// follows a failover the same way.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { within } from './within.ts';

// Where Redis is, as core/config.ts read it.
export type RedisTarget =
  | Readonly<{ kind: 'single'; url: string }>
  | Readonly<{ kind: 'sentinel'; sentinels: readonly HostPort[]; name: string; url: string }>
  | Readonly<{ kind: 'cluster'; nodes: readonly HostPort[]; url: string }>;
export type HostPort = Readonly<{ host: string; port: number }>;

// What the rest of the code holds: the commands are the same on both.
export type RedisConnection = Redis | Cluster;

// How long to wait before reconnecting: soon after a failover, without
// hammering a Redis that is away for longer. Sentinel takes its
// down-after-milliseconds and an election to promote a replica; at most
// half a second apart, a client finds the new primary within half a second
// of the switch (with a 2 s cap it was up to 2 s, a third of the outage).
function retryDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 500);
}

// A primary demoted by a failover answers writes with READONLY until the
// client reconnects; reconnect (ioredis then asks Sentinel again) and resend.
function reconnectOnReadonly(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

// ioredis's failover detector (its subscriptions to the sentinels) is shut
// by disconnect() but not by QUIT, which closeRedis and BullMQ use: left
// behind, its sentinel connections reconnected for ever and held the process
// open. A Sentinel connection, and each of its duplicates, shuts it on end.
function shutDetectorOnEnd(connection: Redis): Redis {
  connection.on('end', () => (connection as unknown as { connector: { disconnect(): void } }).connector.disconnect());
  const duplicate = connection.duplicate.bind(connection);
  connection.duplicate = (override) => shutDetectorOnEnd(duplicate(override));
  return connection;
}

// API-side connections fail fast so a request answers 503 instead of hanging
// while Redis is away; worker connections retry forever, as BullMQ requires
// (maxRetriesPerRequest: null for its blocking connections).
export function connectRedis(target: RedisTarget, role: 'api' | 'worker', name: string): RedisConnection {
  const perRole: RedisOptions =
    role === 'api'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 }
      : { maxRetriesPerRequest: null };
  const common: RedisOptions = { ...perRole, connectionName: name, reconnectOnError: reconnectOnReadonly };
  if (target.kind === 'single') return new Redis(target.url, common);
  // The URL's user, password, database and TLS still apply to the data nodes;
  // its host and port are replaced by what Sentinel or the cluster says.
  const auth = urlAuth(target.url);
  if (target.kind === 'sentinel') {
    return shutDetectorOnEnd(
      new Redis({
        ...common,
        ...auth,
        sentinels: target.sentinels.map((s) => ({ ...s })),
        name: target.name,
        role: 'master',
        // Sentinel announces +switch-master; reconnect then, not only when the old primary's socket dies.
        failoverDetector: true,
        retryStrategy: retryDelayMs,
        sentinelRetryStrategy: retryDelayMs,
      }),
    );
  }
  const { db: _db, ...clusterAuth } = auth;
  const options: ClusterOptions = {
    redisOptions: { ...common, ...clusterAuth },
    clusterRetryStrategy: retryDelayMs,
    enableOfflineQueue: role !== 'api',
    // A request that meets a moving slot or a failing-over primary is redirected, not failed.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
  };
  if (role === 'api') options.maxRedirections = 4;
  return new Cluster(
    target.nodes.map((n) => ({ ...n })),
    options,
  );
}

function urlAuth(url: string): Pick<RedisOptions, 'username' | 'password' | 'db' | 'tls'> {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.pathname.length > 1 ? { db: Number(parsed.pathname.slice(1)) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

// Where the connection goes, for a log line: never the password.
export function describeTarget(target: RedisTarget): string {
  if (target.kind === 'sentinel')
    return `sentinel ${target.name} at ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  if (target.kind === 'cluster') return `cluster at ${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  const parsed = new URL(target.url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

// Closes a connection politely when Redis is there, and at once when it is
// not: QUIT on a connection that is down waits for a reconnect that may never come.
export async function closeRedis(connection: RedisConnection, timeoutMs = 2_000): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  try {
    await within(connection.quit(), timeoutMs);
  } catch {
    connection.disconnect();
  }
}

// A second connection to the same place (a subscriber, a blocking reader),
// under its own name.
export function duplicateConnection(connection: RedisConnection, name: string): RedisConnection {
  if (connection instanceof Cluster) {
    return connection.duplicate(undefined, {
      redisOptions: { ...connection.options.redisOptions, connectionName: name },
    });
  }
  return connection.duplicate({ connectionName: name });
}
