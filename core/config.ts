// The one place that reads the environment. Both processes call loadConfig()
// at start and receive a typed, validated object; an invalid value stops the
// process with a message that names the variable. The variables themselves,
// with their bounds and defaults, are in config-env.ts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestToken } from './access/static-tokens.ts';
import { durationMs, type Env, EnvSchema } from './config-env.ts';
import { redisSettings } from './redis-settings.ts';
import type { RedisTarget } from './redis.ts';

const BUNDLED_CLI_CONFIG = fileURLToPath(new URL('../worker/terraform.rc', import.meta.url));

// Variables handed through to Terraform untouched: credentials and endpoints
// for the AWS provider and S3 backend, operator-set TF_VAR_* inputs, proxies
// and CA bundles. Nothing else of the worker's environment (Redis URL, tokens)
// reaches a Terraform process.
const PASSTHROUGH =
  /^(AWS_[A-Z0-9_]+|TF_VAR_[A-Za-z0-9_]+|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy|SSL_CERT_FILE|SSL_CERT_DIR)$/;

export type Config = Readonly<{
  port: number;
  host: string;
  redis: RedisTarget;
  // Of every key and of BullMQ's queues (a hash tag in cluster mode: redis-settings.ts).
  redisPrefix: string;
  // Replicas that must have a script's writes before its reply is used (WAIT). 0: none.
  redisWaitReplicas: number;
  logLevel: Env['LOG_LEVEL'];
  api: Readonly<{
    // API_TOKENS and OIDC_* as given; only the API reads them (apiAccess()),
    // so a worker never refuses to start over a setting it does not use.
    tokensSetting: string;
    oidcSetting: Readonly<{ issuer: string; audience: string; bindings: string }>;
    // Every request acts as the "local" principal, without a token.
    insecureLocal: boolean;
    rateLimitPerMinute: number;
    // Requests from one client address that failed authentication, a minute.
    rateLimitPerAddressPerMinute: number;
    // Requests one principal may hold open at once (Prefer: wait, live logs), per API process.
    maxHeldRequests: number;
    // Open connections per API process; the ones over it are closed at once.
    maxConnections: number;
    // The SHA-256 of METRICS_TOKEN, which /metrics then needs; undefined: /metrics is open.
    metricsTokenDigest: Buffer | undefined;
    maxLiveStacksPerToken: number;
    corsOrigins: readonly string[];
    shutdownGraceMs: number;
    auditRetentionDays: number;
    // The console (api/console/): a session's idle life; its OIDC client (undefined: no SSO).
    // publicOrigin: where browsers reach it (PUBLIC_URL), behind a TLS-terminating proxy; undefined: the request's own.
    console: Readonly<{
      sessionTtlMs: number;
      oidcClient: Readonly<{ id: string; secret: string }> | undefined;
      publicOrigin: string | undefined;
    }>;
  }>;
  // Where the templates are: each subdirectory of TEMPLATES_DIR, or TF_CWD
  // alone as the template "ec2instance" (see core/templates/catalogue.ts).
  templates: Readonly<{ templatesDir: string | undefined; singleDir: string }>;
  // Encrypts sensitive inputs at rest (core/secret-box.ts); undefined when
  // not set, and then no template may take a sensitive input.
  encryptionKey: Buffer | undefined;
  terraform: Readonly<{
    bin: string;
    backendConfig: string | undefined;
    cliConfigFile: string;
    pluginCacheDir: string | undefined;
    passthroughEnv: Readonly<Record<string, string>>;
    timeoutMs: number;
    homeDir: string | undefined;
    path: string;
  }>;
  worker: Readonly<{
    workDir: string;
    concurrency: number;
    attempts: number;
    backoffMs: number;
    shutdownGraceMs: number;
    stateDirectAccess: boolean;
    jobRetentionSeconds: number;
    // A worker that has not renewed its heartbeat for this long is dead: BullMQ
    // re-runs its jobs and the state locks it held may be released.
    leaseMs: number;
    // How long a job validated against a template version this worker does
    // not have is handed back for one that has it (a rolling deploy).
    versionWaitMs: number;
    // Every ready stack gets a plan-only job this often (undefined: never),
    // at most `concurrency` at once per worker, beside the user jobs' slots.
    driftCheck: Readonly<{ intervalMs: number | undefined; concurrency: number }>;
    // The time limit of one policy's rule on one plan; a rule stopped at it fails.
    policyTimeoutMs: number;
  }>;
  webhooks: Readonly<{
    // Receivers on loopback, private, link-local or metadata addresses are
    // refused unless this is set (a development or in-cluster setting).
    allowPrivateNetworks: boolean;
    // Deliveries in flight at once, per worker.
    concurrency: number;
    // The first retry's delay, doubling (with jitter) up to the maximum; a
    // delivery is given up once retrying has gone on this long.
    backoffMs: number;
    backoffMaxMs: number;
    retryForMs: number;
    // Webhooks the installation may have, and any one project (so one team
    // cannot take every place; every-project webhooks count in the first only).
    limit: number;
    limitPerProject: number;
    // Of `concurrency`, the deliveries in flight at once to any one webhook,
    // so one slow or failing receiver cannot take every slot.
    concurrencyPerWebhook: number;
    // A webhook whose receiver failed this many attempts in a row (within
    // the circuit's window) is not sent to for `circuitOpenMs`.
    circuitFailures: number;
    circuitOpenMs: number;
  }>;
}>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function apiSection(e: Env): Config['api'] {
  return {
    tokensSetting: e.API_TOKENS ?? '',
    oidcSetting: { issuer: e.OIDC_ISSUER ?? '', audience: e.OIDC_AUDIENCE ?? '', bindings: e.OIDC_BINDINGS ?? '' },
    insecureLocal: e.AUTH_MODE === 'insecure-local',
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    rateLimitPerAddressPerMinute: e.RATE_LIMIT_PER_ADDRESS_PER_MINUTE,
    maxHeldRequests: e.MAX_HELD_REQUESTS,
    maxConnections: e.MAX_CONNECTIONS,
    metricsTokenDigest: e.METRICS_TOKEN === undefined ? undefined : digestToken(e.METRICS_TOKEN),
    maxLiveStacksPerToken: e.MAX_LIVE_RESOURCES_PER_TOKEN,
    corsOrigins: (e.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    console: {
      sessionTtlMs: durationMs(e.UI_SESSION_TTL) as number,
      oidcClient:
        e.OIDC_CLIENT_ID && e.OIDC_CLIENT_SECRET ? { id: e.OIDC_CLIENT_ID, secret: e.OIDC_CLIENT_SECRET } : undefined,
      publicOrigin: e.PUBLIC_URL && new URL(e.PUBLIC_URL).origin,
    },
  };
}

function terraformSection(e: Env, env: NodeJS.ProcessEnv): Config['terraform'] {
  const passthroughEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && PASSTHROUGH.test(name)) passthroughEnv[name] = value;
  }
  // The machine may point TF_CLI_CONFIG_FILE at a file that is not there;
  // Terraform then warns on every run, so fall back to our empty one.
  const cliConfigFile =
    e.TF_CLI_CONFIG_FILE && existsSync(e.TF_CLI_CONFIG_FILE) ? e.TF_CLI_CONFIG_FILE : BUNDLED_CLI_CONFIG;
  return {
    bin: e.TF_BIN,
    backendConfig: e.TF_BACKEND_CONFIG === undefined ? undefined : path.resolve(e.TF_BACKEND_CONFIG),
    cliConfigFile,
    pluginCacheDir: e.TF_PLUGIN_CACHE_DIR,
    passthroughEnv,
    timeoutMs: e.JOB_TIMEOUT_SECONDS * 1000,
    homeDir: env.HOME,
    path: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  };
}

function workerSection(e: Env): Config['worker'] {
  return {
    workDir: path.resolve(e.WORK_DIR),
    concurrency: e.WORKER_CONCURRENCY,
    attempts: e.JOB_ATTEMPTS,
    backoffMs: e.JOB_BACKOFF_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
    stateDirectAccess: e.STATE_DIRECT_ACCESS === 'auto',
    jobRetentionSeconds: e.JOB_RETENTION_DAYS * 86_400,
    leaseMs: e.WORKER_LEASE_SECONDS * 1000,
    versionWaitMs: e.TEMPLATE_VERSION_WAIT_SECONDS * 1000,
    driftCheck: { intervalMs: durationMs(e.DRIFT_CHECK_INTERVAL), concurrency: e.DRIFT_CHECK_CONCURRENCY },
    policyTimeoutMs: e.POLICY_EVALUATION_TIMEOUT_MS,
  };
}

function webhooksSection(e: Env): Config['webhooks'] {
  return {
    allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
    concurrency: e.WEBHOOK_DELIVERY_CONCURRENCY,
    backoffMs: e.WEBHOOK_BACKOFF_MS,
    backoffMaxMs: Math.max(e.WEBHOOK_BACKOFF_MS, e.WEBHOOK_BACKOFF_MAX_MS),
    retryForMs: durationMs(e.WEBHOOK_RETRY_FOR) as number,
    limit: e.WEBHOOK_LIMIT,
    limitPerProject: e.WEBHOOK_LIMIT_PER_PROJECT,
    concurrencyPerWebhook: Math.min(
      e.WEBHOOK_DELIVERY_CONCURRENCY,
      e.WEBHOOK_DELIVERY_CONCURRENCY_PER_WEBHOOK ?? Math.max(1, Math.floor(e.WEBHOOK_DELIVERY_CONCURRENCY / 4)),
    ),
    circuitFailures: e.WEBHOOK_CIRCUIT_FAILURES,
    circuitOpenMs: e.WEBHOOK_CIRCUIT_OPEN_SECONDS * 1000,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const redis = redisSettings({
    url: e.REDIS_URL,
    prefix: e.REDIS_PREFIX,
    sentinels: e.REDIS_SENTINELS,
    sentinelName: e.REDIS_SENTINEL_NAME,
    clusterNodes: e.REDIS_CLUSTER_NODES,
    waitReplicas: e.REDIS_WAIT_REPLICAS,
  });
  if (typeof redis === 'string') throw new ConfigError(`invalid configuration:\n  ${redis}`);
  // One without the other would leave the console without SSO, unsaid.
  if ((e.OIDC_CLIENT_ID === undefined) !== (e.OIDC_CLIENT_SECRET === undefined)) {
    throw new ConfigError(
      "invalid configuration:\n  OIDC_CLIENT_ID, OIDC_CLIENT_SECRET: the console's SSO client needs " +
        'both, or neither (no SSO)',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    redis: redis.target,
    redisPrefix: redis.prefix,
    redisWaitReplicas: e.REDIS_WAIT_REPLICAS,
    logLevel: e.LOG_LEVEL,
    api: apiSection(e),
    templates: {
      templatesDir: e.TEMPLATES_DIR === undefined ? undefined : path.resolve(e.TEMPLATES_DIR),
      singleDir: path.resolve(e.TF_CWD),
    },
    encryptionKey: e.ENCRYPTION_KEY === undefined ? undefined : Buffer.from(e.ENCRYPTION_KEY, 'base64'),
    terraform: terraformSection(e, env),
    worker: workerSection(e),
    webhooks: webhooksSection(e),
  };
}
