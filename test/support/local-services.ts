// Starts what tfcompute needs around it, on this machine: a redis-server and
// an S3 state backend made of the npm emulators s3rver (S3) and dynalite
// (DynamoDB, for the state lock table). Used by `npm run dev` and the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { stackStatePrefix } from '../../core/ids.ts';

export const STATE_BUCKET = 'tfstate';
export const STATE_KEY = 'tfcompute/terraform.tfstate';
export const LOCK_TABLE = 'tflock';
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } as const;

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export type RedisServer = { url: string; port: number; process: ChildProcess; stop(): Promise<void> };

export async function startRedis(
  dir: string,
  options: { port?: number; appendonly?: boolean } = {},
): Promise<RedisServer> {
  await mkdir(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      options.appendonly ? 'yes' : 'no',
      '--dir',
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    };
    child.stdout?.on('data', onData);
    child.on('error', (error) =>
      reject(new Error(`could not start redis-server (is it installed?): ${error.message}`)),
    );
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
  });
  child.stdout?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export type StateBackend = {
  s3Endpoint: string;
  dynamodbEndpoint: string;
  backendConfigFile: string;
  // Environment Terraform needs to reach the emulators.
  env: Record<string, string>;
  // `prefix`: the workspace_key_prefix, by default the one a stack made
  // through the API has (stackStatePrefix); 'env:' for one from before.
  stateObjectUrl(workspace: string, prefix?: string): string;
  // Where the worker keeps an update's saved plan while it awaits approval.
  planObjectUrl(workspace: string, jobId: string): string;
  // Every state object key in the bucket (saved plans aside), under any workspace prefix.
  listStateKeys(): Promise<string[]>;
  // The lock table item Terraform writes while it holds a workspace's state lock.
  // `extra`: Info fields to set, and a tfcompute holder's Heartbeat (ms).
  holdStateLock(
    workspace: string,
    who: string,
    extra?: { Info?: string; Heartbeat?: number },
    prefix?: string,
  ): Promise<void>;
  releaseStateLock(workspace: string, prefix?: string): Promise<void>;
  // The Info of every state lock held now (the lock table's items other than checksums).
  lockHolders(): Promise<Array<Record<string, unknown>>>;
  // Whether the lock table still holds the workspace's state checksum item.
  hasStateDigest(workspace: string, prefix?: string): Promise<boolean>;
  stop(): Promise<void>;
};

export async function startStateBackend(dir: string): Promise<StateBackend> {
  await mkdir(path.join(dir, 's3'), { recursive: true });
  const s3 = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: path.join(dir, 's3'),
    configureBuckets: [{ name: STATE_BUCKET, configs: [] }],
  });
  const s3Address = (await s3.run()) as AddressInfo;
  const dynamo: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  dynamo.listen(0, '127.0.0.1');
  await once(dynamo, 'listening');
  const dynamoPort = (dynamo.address() as AddressInfo).port;

  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;
  const dynamodbEndpoint = `http://127.0.0.1:${dynamoPort}`;
  await dynamoCall(dynamodbEndpoint, 'CreateTable', {
    TableName: LOCK_TABLE,
    AttributeDefinitions: [{ AttributeName: 'LockID', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'LockID', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  const objectKey = (workspace: string, prefix = stackStatePrefix(workspace)) => `${prefix}/${workspace}/${STATE_KEY}`;
  const lockId = (workspace: string, prefix?: string) => `${STATE_BUCKET}/${objectKey(workspace, prefix)}`;

  const backendConfigFile = path.join(dir, 'backend.hcl');
  await writeBackendConfig(backendConfigFile, s3Endpoint, dynamodbEndpoint);
  return {
    s3Endpoint,
    dynamodbEndpoint,
    backendConfigFile,
    env: { ...S3RVER_CREDENTIALS, AWS_REGION: 'us-east-1' },
    stateObjectUrl: (workspace, prefix) => `${s3Endpoint}/${STATE_BUCKET}/${objectKey(workspace, prefix)}`,
    planObjectUrl: (workspace, jobId) => `${s3Endpoint}/${STATE_BUCKET}/tfcompute-plans/${workspace}/${jobId}.tfplan`,
    async listStateKeys() {
      const response = await fetch(`${s3Endpoint}/${STATE_BUCKET}?list-type=2&max-keys=1000`);
      const xml = await response.text();
      return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)]
        .map((m) => m[1] ?? '')
        .filter((key) => !key.startsWith('tfcompute-plans/'));
    },
    async holdStateLock(workspace, who, extra = {}, prefix) {
      const info = {
        ID: `held-by-${who}`,
        Operation: 'OperationTypeApply',
        Who: who,
        Version: '1.11.4',
        Created: new Date().toISOString(),
        Path: lockId(workspace, prefix),
        Info: extra.Info ?? '',
      };
      await dynamoCall(dynamodbEndpoint, 'PutItem', {
        TableName: LOCK_TABLE,
        Item: {
          LockID: { S: lockId(workspace, prefix) },
          Info: { S: JSON.stringify(info) },
          ...(extra.Heartbeat === undefined ? {} : { Heartbeat: { N: String(extra.Heartbeat) } }),
        },
      });
    },
    async releaseStateLock(workspace, prefix) {
      await dynamoCall(dynamodbEndpoint, 'DeleteItem', {
        TableName: LOCK_TABLE,
        Key: { LockID: { S: lockId(workspace, prefix) } },
      });
    },
    async lockHolders() {
      const reply = (await dynamoCall(dynamodbEndpoint, 'Scan', { TableName: LOCK_TABLE })) as {
        Items?: Array<{ LockID: { S: string }; Info?: { S: string } }>;
      };
      return (reply.Items ?? [])
        .filter((item) => !item.LockID.S.endsWith('-md5'))
        .map((item) => ({ LockID: item.LockID.S, ...(JSON.parse(item.Info?.S ?? '{}') as Record<string, unknown>) }));
    },
    async hasStateDigest(workspace, prefix) {
      const reply = (await dynamoCall(dynamodbEndpoint, 'GetItem', {
        TableName: LOCK_TABLE,
        Key: { LockID: { S: `${lockId(workspace, prefix)}-md5` } },
      })) as {
        Item?: unknown;
      };
      return reply.Item !== undefined;
    },
    async stop() {
      await s3.close();
      await new Promise((resolve) => dynamo.close(resolve));
    },
  };
}

// The S3 backend configuration for the emulators (or proxies in front of
// them); without a DynamoDB endpoint, no lock table (`extra` may then say
// `use_lockfile = true`).
export async function writeBackendConfig(
  file: string,
  s3Endpoint: string,
  dynamodbEndpoint: string | undefined,
  extra: string[] = [],
): Promise<void> {
  await writeFile(
    file,
    [
      `bucket         = "${STATE_BUCKET}"`,
      `key            = "${STATE_KEY}"`,
      `region         = "us-east-1"`,
      ...(dynamodbEndpoint ? [`dynamodb_table = "${LOCK_TABLE}"`] : []),
      `endpoints = {`,
      `  s3       = "${s3Endpoint}"`,
      ...(dynamodbEndpoint ? [`  dynamodb = "${dynamodbEndpoint}"`] : []),
      `}`,
      `use_path_style              = true`,
      `skip_credentials_validation = true`,
      `skip_requesting_account_id  = true`,
      `skip_metadata_api_check     = true`,
      `skip_region_validation      = true`,
      `skip_s3_checksum            = true`,
      ...extra,
      '',
    ].join('\n'),
  );
}

// dynalite checks that a request is signed in form, not that the signature
// is right, so a fixed header is enough for a local emulator.
async function dynamoCall(endpoint: string, action: string, body: object): Promise<unknown> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${action}`,
      'x-amz-date': '20260101T000000Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=S3RVER/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0',
    },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`DynamoDB ${action} failed: ${response.status} ${await response.text()}`);
  return response.json();
}
