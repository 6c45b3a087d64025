// `npm run dev`: the whole service on this machine. Starts redis-server, the
// S3 + DynamoDB emulators, one API and one worker, and stops them all on Ctrl-C.
//
// Without TEMPLATES_DIR or TF_CWD it serves the offline templates in
// test/templates (ec2instance and typed, Terraform's built-in terraform_data
// only), so it works with no cloud account and no provider downloads. Set
// TF_CWD=./tf (or TEMPLATES_DIR), TF_BACKEND_CONFIG and AWS credentials to
// create real EC2 instances instead. Sensitive inputs are encrypted with a
// key made on the first run and kept in .local/encryption-key.
import { spawn, type ChildProcess } from 'node:child_process';
import { build } from 'pino-pretty';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_NODE_FLAGS } from './api-node-flags.ts';
import { startRedis, startStateBackend } from '../test/support/local-services.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const localDir = path.join(root, '.local');
const env = process.env;

const redis = await startRedis(path.join(localDir, 'redis'), {
  port: Number(env.DEV_REDIS_PORT ?? 6390),
  appendonly: true,
});
const backend = env.TF_BACKEND_CONFIG ? undefined : await startStateBackend(path.join(localDir, 'state'));
const offline = env.TF_CWD === undefined && env.TEMPLATES_DIR === undefined;
if (offline) console.log('dev: TEMPLATES_DIR and TF_CWD not set, serving the offline templates in test/templates');

const childEnv: NodeJS.ProcessEnv = {
  ...env,
  ...backend?.env,
  REDIS_URL: redis.url,
  // Without API_TOKENS, the insecure local mode: no token needed, and so
  // only this machine can reach the API (the API refuses any other HOST).
  HOST: env.HOST ?? '127.0.0.1',
  AUTH_MODE: env.AUTH_MODE ?? (env.API_TOKENS ? 'tokens' : 'insecure-local'),
  ...(offline
    ? { TEMPLATES_DIR: path.join(root, 'test/templates'), TF_VAR_subnet_id: env.TF_VAR_subnet_id ?? 'subnet-dev' }
    : {}),
  ENCRYPTION_KEY: env.ENCRYPTION_KEY ?? (await devEncryptionKey()),
  // A development machine's receivers are on it (npm run receiver).
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? 'true',
  TF_BACKEND_CONFIG: env.TF_BACKEND_CONFIG ?? backend?.backendConfigFile,
  WORK_DIR: path.join(localDir, 'work'),
};

// At a terminal, the services' JSON log lines are shown as readable lines;
// piped elsewhere they stay JSON.
const pretty = process.stdout.isTTY
  ? build({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
  : undefined;

const children: ChildProcess[] = [];
for (const [entry, flags] of [
  ['api/main.ts', API_NODE_FLAGS],
  ['worker/main.ts', []],
] as const) {
  const child = spawn(process.execPath, [...flags, path.join(root, entry)], {
    env: childEnv,
    stdio: ['ignore', pretty ? 'pipe' : 'inherit', 'inherit'],
  });
  if (pretty) child.stdout?.pipe(pretty, { end: false });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`dev: ${entry} exited (${signal ?? code}); stopping`);
      void stop(1);
    }
  });
}
console.log(`dev: API on http://localhost:${env.PORT ?? 8080} (Swagger UI at /swagger); Ctrl-C stops everything`);

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }),
  );
  await backend?.stop();
  await redis.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
// The terminal closed: stop everything rather than leave Redis and the emulators behind.
process.on('SIGHUP', () => void stop(0));

// The development key: made once, kept beside the development Redis data, so
// stacks created before a restart can still be read.
async function devEncryptionKey(): Promise<string> {
  const file = path.join(localDir, 'encryption-key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const key = randomBytes(32).toString('base64');
    await mkdir(localDir, { recursive: true });
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    return key;
  }
}
