// The environment variables tfcompute reads, each with its type, bounds and
// default: the schema core/config.ts validates the environment against once,
// at start, and the duration format ("30s", "6h") some of them use.
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { MIN_TOKEN_LENGTH } from './access/static-tokens.ts';
import { HOST_PORT_LIST } from './redis-settings.ts';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

export const EnvSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: z.string().regex(HOST_PORT_LIST, 'a comma-separated list of host:port').optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-" only')
    .optional(),
  REDIS_CLUSTER_NODES: z.string().regex(HOST_PORT_LIST, 'a comma-separated list of host:port').optional(),
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).default(0),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-" only')
    .default('tfcompute'),
  TEMPLATES_DIR: z.string().min(1).optional(),
  TF_CWD: z.string().min(1).default('./tf'),
  TF_BACKEND_CONFIG: z.string().min(1).optional(),
  TF_BIN: z.string().min(1).default('terraform'),
  TF_CLI_CONFIG_FILE: z.string().optional(),
  TF_PLUGIN_CACHE_DIR: z.string().min(1).optional(),
  WORK_DIR: z.string().min(1).default(path.join(tmpdir(), 'tfcompute')),
  WORKER_CONCURRENCY: positiveInt(64).default(2),
  JOB_ATTEMPTS: positiveInt(20).default(3),
  JOB_BACKOFF_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  JOB_TIMEOUT_SECONDS: positiveInt(86_400).default(3_600),
  SHUTDOWN_GRACE_SECONDS: positiveInt(3_600).default(60),
  STATE_DIRECT_ACCESS: z.enum(['auto', 'off']).default('auto'),
  JOB_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  API_TOKENS: z.string().optional(),
  AUTH_MODE: z.enum(['tokens', 'insecure-local']).default('tokens'),
  OIDC_ISSUER: z.string().optional(),
  OIDC_AUDIENCE: z.string().optional(),
  OIDC_BINDINGS: z.string().optional(),
  OIDC_CLIENT_ID: z.string().min(1).max(256).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).max(1024).optional(),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .regex(
      /^https?:\/\/[^/]+\/?$/,
      'the origin the console is reached at, such as https://tfcompute.example.com (no path)',
    )
    .optional(),
  UI_SESSION_TTL: z
    .string()
    .regex(/^[1-9][0-9]{0,6}[smhd]$/, 'a whole number and a unit: s, m, h or d, for example "8h"')
    .default('8h'),
  RATE_LIMIT_PER_MINUTE: positiveInt(1_000_000).default(600),
  RATE_LIMIT_PER_ADDRESS_PER_MINUTE: positiveInt(1_000_000).default(1_200),
  MAX_HELD_REQUESTS: positiveInt(1_000_000).default(100),
  MAX_CONNECTIONS: positiveInt(1_000_000).default(4_096),
  METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .min(MIN_TOKEN_LENGTH)
    .max(512)
    .optional(),
  MAX_LIVE_RESOURCES_PER_TOKEN: positiveInt(1_000_000).default(100),
  CORS_ORIGINS: z.string().optional(),
  WORKER_LEASE_SECONDS: positiveInt(600).default(30),
  POLICY_EVALUATION_TIMEOUT_MS: positiveInt(60_000).default(1_000),
  TEMPLATE_VERSION_WAIT_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
    .optional(),
  DRIFT_CHECK_INTERVAL: z
    .string()
    .regex(/^(off|[1-9][0-9]{0,6}[smhd])$/, '"off", or a whole number and a unit: s, m, h or d, for example "6h"')
    .default('off'),
  DRIFT_CHECK_CONCURRENCY: positiveInt(64).default(1),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z.enum(['true', 'false']).default('false'),
  WEBHOOK_DELIVERY_CONCURRENCY: positiveInt(256).default(16),
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(1).max(60_000).default(5_000),
  WEBHOOK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).max(86_400_000).default(3_600_000),
  WEBHOOK_RETRY_FOR: z
    .string()
    .regex(/^[1-9][0-9]{0,6}[smhd]$/, 'a whole number and a unit: s, m, h or d, for example "1d"')
    .default('1d'),
  WEBHOOK_LIMIT: positiveInt(100_000).default(100),
  WEBHOOK_LIMIT_PER_PROJECT: positiveInt(100_000).default(20),
  WEBHOOK_DELIVERY_CONCURRENCY_PER_WEBHOOK: positiveInt(256).optional(),
  WEBHOOK_CIRCUIT_FAILURES: positiveInt(1_000).default(10),
  WEBHOOK_CIRCUIT_OPEN_SECONDS: positiveInt(86_400).default(3_600),
});
export type Env = z.infer<typeof EnvSchema>;

const DURATION_UNITS_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

// "30s", "6h", "1d" to milliseconds; "off" to undefined.
export function durationMs(value: string): number | undefined {
  if (value === 'off') return undefined;
  return Number(value.slice(0, -1)) * DURATION_UNITS_MS[value.at(-1) as keyof typeof DURATION_UNITS_MS];
}
