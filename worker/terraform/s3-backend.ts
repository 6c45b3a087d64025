// The S3 backend Terraform recorded at init, and the clients that reach it as
// Terraform does: the same credentials, region, endpoints, encryption of
// written objects and locks. A backend set up in a way we do not copy (role
// assumption, customer-provided keys, custom CA bundles, proxies) is not
// opened at all; s3-state.ts then leaves the work to Terraform.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { bothLocks, lockFiles, type LockStore, tableLocks } from './lock-stores.ts';

type BackendConfig = Record<string, unknown> & {
  bucket?: string;
  key?: string;
  region?: string | null;
  workspace_key_prefix?: string | null;
  dynamodb_table?: string | null;
  use_lockfile?: boolean | null;
  endpoint?: string | null;
  dynamodb_endpoint?: string | null;
  endpoints?: { s3?: string | null; dynamodb?: string | null } | null;
  use_path_style?: boolean | null;
  force_path_style?: boolean | null;
  access_key?: string | null;
  secret_key?: string | null;
  token?: string | null;
  max_retries?: number | null;
  encrypt?: boolean | null;
  kms_key_id?: string | null;
  acl?: string | null;
};

// A backend config with what every S3 backend has.
export type S3BackendConfig = BackendConfig & { bucket: string; key: string };

// Settings that change how Terraform reaches the bucket in ways we do not copy.
const UNSUPPORTED = [
  'assume_role',
  'assume_role_with_web_identity',
  'role_arn',
  'profile',
  'shared_config_files',
  'shared_credentials_file',
  'shared_credentials_files',
  'sse_customer_key',
  'custom_ca_bundle',
  'insecure',
  'http_proxy',
  'https_proxy',
  'ec2_metadata_service_endpoint',
  'sts_endpoint',
];

// What every view of one backend shares: its clients and settings.
export type Backend = {
  s3: S3Client;
  dynamo: DynamoDBClient | undefined;
  bucket: string;
  key: string;
  table: string | undefined;
  locks: LockStore | undefined;
  put: { ServerSideEncryption?: 'AES256' | 'aws:kms'; SSEKMSKeyId?: string; ACL?: string };
};

// The clients and settings of the backend `config` describes; `env` is the
// environment Terraform runs with.
export function backendOf(config: S3BackendConfig, env: Readonly<Record<string, string>>): Backend {
  const keyId = config.access_key ?? env.AWS_ACCESS_KEY_ID;
  const secret = config.secret_key ?? env.AWS_SECRET_ACCESS_KEY;
  const token = config.access_key ? config.token : env.AWS_SESSION_TOKEN;
  const credentials =
    keyId && secret
      ? { accessKeyId: keyId, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) }
      : undefined;
  const region = config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const common = {
    ...(region ? { region } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: 2,
  };
  const s3 = new S3Client({
    ...common,
    ...(config.endpoints?.s3 || config.endpoint
      ? { endpoint: (config.endpoints?.s3 ?? config.endpoint) as string }
      : {}),
    forcePathStyle: Boolean(config.use_path_style ?? config.force_path_style),
  });
  const table = config.dynamodb_table ?? undefined;
  const dynamoEndpoint = config.endpoints?.dynamodb ?? config.dynamodb_endpoint;
  const dynamo = table
    ? new DynamoDBClient({ ...common, ...(dynamoEndpoint ? { endpoint: dynamoEndpoint } : {}) })
    : undefined;
  // Written objects get what Terraform would give them.
  const put = {
    ...(config.kms_key_id
      ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: config.kms_key_id }
      : config.encrypt
        ? { ServerSideEncryption: 'AES256' as const }
        : {}),
    ...(config.acl ? { ACL: config.acl } : {}),
  };
  // The lock ID is "<bucket>/<state object key>", whatever the prefix; a lock file is "<state object key>.tflock".
  const tableLock = dynamo && table ? tableLocks(dynamo, table) : undefined;
  const files = config.use_lockfile
    ? lockFiles(s3, config.bucket, (lockId) => `${lockId.slice(config.bucket.length + 1)}.tflock`, put)
    : undefined;
  const locks = tableLock && files ? bothLocks(tableLock, files) : (tableLock ?? files);
  return { s3, dynamo, bucket: config.bucket, key: config.key, table, locks, put };
}

// The S3 backend Terraform initialised in `dataDir`, if that is what it is and
// we can reach it the same way; otherwise undefined.
export async function recordedS3Backend(dataDir: string): Promise<S3BackendConfig | undefined> {
  let recorded: { backend?: { type?: string; config?: BackendConfig } };
  try {
    recorded = JSON.parse(await readFile(path.join(dataDir, 'terraform.tfstate'), 'utf8')) as typeof recorded;
  } catch {
    return undefined;
  }
  const config = recorded.backend?.config;
  if (recorded.backend?.type !== 's3' || !config?.bucket || !config.key) return undefined;
  if (UNSUPPORTED.some((name) => config[name] !== null && config[name] !== undefined)) return undefined;
  return { ...config, bucket: config.bucket, key: config.key };
}
