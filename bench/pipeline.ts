// Pipeline throughput: N stacks created and then deleted (a) through
// tfcompute, (b) with the raw minimum of Terraform commands, and (c) the
// original project's way, at the same parallelism.
import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { customAlphabet } from 'nanoid';
import { type JobEvent, Store } from '../core/store/index.ts';
import { stackStatePrefix } from '../core/ids.ts';
import { STATE_BUCKET, STATE_KEY, type StateBackend } from '../test/support/local-services.ts';
import type { S3Counter, S3Counts } from '../test/support/s3-counter.ts';
import { type CpuUse, measureCpu } from './cpu.ts';
import { AUTH_ENV, AUTH_HEADER, inLanes, ROOT, startService } from './processes.ts';

export const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'ok');
const CLI_CONFIG = path.join(ROOT, 'worker', 'terraform.rc');
const workspaceId = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 16);

// `s3`: the requests the bucket saw, per phase; `cpu`: where the CPU went
// (ours only); `redisBytesPerResource`: Redis memory per ready stack (ours only).
export type PhaseTimes = {
  createMs: number;
  deleteMs: number;
  failures: number;
  s3?: { create: S3Counts; delete: S3Counts };
  cpu?: { create: CpuUse; delete: CpuUse };
  redisBytesPerResource?: number;
};

// `backend`'s S3 endpoint is the counting proxy in front of the emulator.
export type Setup = {
  redisUrl: string;
  redisPid: number;
  backend: StateBackend;
  s3Counter: S3Counter;
  workDir: string;
};

function baseEnv(setup: Setup): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    ...setup.backend.env,
    TF_CLI_CONFIG_FILE: CLI_CONFIG,
  };
}

// The settings of a tfcompute installation of its own (its own key prefix,
// port and work directory) serving `fixture`, and its port and prefix.
export function installationEnv(
  setup: Setup,
  fixture: string,
  concurrency: number,
): { env: Record<string, string>; port: number; prefix: string } {
  const prefix = `bench-${workspaceId().slice(0, 8)}`;
  const port = 18000 + Math.floor(Math.random() * 2000);
  const env = {
    ...baseEnv(setup),
    ...AUTH_ENV,
    PORT: String(port),
    REDIS_URL: setup.redisUrl,
    REDIS_PREFIX: prefix,
    TF_CWD: fixture,
    TF_BACKEND_CONFIG: setup.backend.backendConfigFile,
    WORK_DIR: path.join(setup.workDir, prefix),
    WORKER_CONCURRENCY: String(concurrency),
  };
  return { env, port, prefix };
}

// (a) tfcompute: one API process, `workers` worker processes of `concurrency`
// slots. Wall time from the first POST to the last job event.
export async function runOurs(setup: Setup, workers: number, concurrency: number, n: number): Promise<PhaseTimes> {
  const { env, port, prefix } = installationEnv(setup, FIXTURE, concurrency);
  const api = await startService('api/main.ts', env, 'api listening');
  const workerProcesses = await Promise.all(
    Array.from({ length: workers }, () => startService('worker/main.ts', env, 'worker ready')),
  );
  const subscriber = new Redis(setup.redisUrl);
  const redis = new Redis(setup.redisUrl);
  const store = new Store(redis, prefix, 86_400);
  let onEvent: (event: JobEvent) => void = () => undefined;
  try {
    await store.channels.subscribe(subscriber, ['job'], (message) => {
      if (message.topic === 'job') onEvent(message.event);
    });
    const base = `http://127.0.0.1:${port}`;
    const parts = {
      workerPids: workerProcesses.map((w) => w.child.pid ?? 0),
      apiPid: api.child.pid ?? 0,
      redisPid: setup.redisPid,
    };
    const phase = async (
      send: (i: number) => Promise<string>,
    ): Promise<{ ms: number; failures: number; s3: S3Counts; cpu: CpuUse }> => {
      setup.s3Counter.take();
      const cpu = await measureCpu(parts);
      const pending = new Set<string>();
      const early = new Map<string, string>();
      let failures = 0;
      let sent = 0;
      let resolveAll: () => void = () => undefined;
      const allDone = new Promise<void>((resolve) => {
        resolveAll = resolve;
      });
      onEvent = (event) => {
        if (event.status !== 'succeeded' && event.status !== 'failed') return;
        if (!pending.delete(event.jobId)) {
          early.set(event.jobId, event.status);
          return;
        }
        if (event.status === 'failed') failures += 1;
        if (pending.size === 0 && sent === n) resolveAll();
      };
      const started = performance.now();
      await inLanes(
        Array.from({ length: n }, (_, i) => i),
        32,
        async (i) => {
          const jobId = await send(i);
          sent += 1;
          const status = early.get(jobId);
          if (status) {
            if (status === 'failed') failures += 1;
          } else {
            pending.add(jobId);
          }
        },
      );
      if (pending.size > 0) await allDone;
      const ms = performance.now() - started;
      onEvent = () => undefined;
      return { ms, failures, s3: setup.s3Counter.take(), cpu: await cpu() };
    };

    const ids: string[] = [];
    const memoryBefore = await usedMemory(redis);
    const created = await phase(async (i) => {
      const res = await fetch(`${base}/api/ec2instance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...AUTH_HEADER },
        body: '{}',
      });
      const body = (await res.json()) as { id: string; job: { id: string } };
      if (res.status !== 202) throw new Error(`POST answered ${res.status}`);
      ids[i] = body.id;
      return body.job.id;
    });
    const redisBytesPerResource = ((await usedMemory(redis)) - memoryBefore) / n;
    const deleted = await phase(async (i) => {
      const res = await fetch(`${base}/api/ec2instance/${ids[i]}`, { method: 'DELETE', headers: AUTH_HEADER });
      const body = (await res.json()) as { job: { id: string } };
      if (res.status !== 202) throw new Error(`DELETE answered ${res.status}`);
      return body.job.id;
    });
    return {
      createMs: created.ms,
      deleteMs: deleted.ms,
      failures: created.failures + deleted.failures,
      s3: { create: created.s3, delete: deleted.s3 },
      cpu: { create: created.cpu, delete: deleted.cpu },
      redisBytesPerResource,
    };
  } finally {
    subscriber.disconnect();
    redis.disconnect();
    await Promise.all(workerProcesses.map((w) => w.stop()));
    await api.stop();
  }
}

async function terraform(args: string[], cwd: string, env: Record<string, string>): Promise<boolean> {
  const result = await execa('terraform', args, { cwd, env, extendEnv: false, reject: false, stdin: 'ignore' });
  return result.exitCode === 0;
}

// (b) The raw minimum: `apply` per stack with TF_WORKSPACE in a directory
// initialised beforehand (one per worker, as ours), then `destroy` and
// `workspace delete`.
export async function runRaw(setup: Setup, workers: number, lanes: number, n: number): Promise<PhaseTimes> {
  const dataDirs = Array.from({ length: workers }, (_, i) =>
    path.join(setup.workDir, `raw-${workspaceId().slice(0, 6)}-${i}`),
  );
  const envFor = (lane: number, workspace: string) => ({
    ...baseEnv(setup),
    TF_IN_AUTOMATION: '1',
    TF_DATA_DIR: dataDirs[lane % workers] as string,
    TF_WORKSPACE: workspace,
  });
  for (const [i] of dataDirs.entries()) {
    const ok = await terraform(
      ['init', '-input=false', `-backend-config=${setup.backend.backendConfigFile}`],
      FIXTURE,
      envFor(i, 'default'),
    );
    if (!ok) throw new Error('raw: init failed');
  }
  const ids = Array.from({ length: n }, () => workspaceId());
  let failures = 0;
  const count = (ok: boolean) => {
    if (!ok) failures += 1;
  };
  setup.s3Counter.take();
  const createStarted = performance.now();
  await inLanes(ids, lanes, async (id, lane) => {
    count(
      await terraform(['apply', '-auto-approve', '-input=false', `-var=resource_id=${id}`], FIXTURE, envFor(lane, id)),
    );
  });
  const createMs = performance.now() - createStarted;
  const createCounts = setup.s3Counter.take();
  const deleteStarted = performance.now();
  await inLanes(ids, lanes, async (id, lane) => {
    count(
      await terraform(
        ['destroy', '-auto-approve', '-input=false', `-var=resource_id=${id}`],
        FIXTURE,
        envFor(lane, id),
      ),
    );
    count(await terraform(['workspace', 'delete', id], FIXTURE, envFor(lane, 'default')));
  });
  const deleteMs = performance.now() - deleteStarted;
  const deleteCounts = setup.s3Counter.take();
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  return { createMs, deleteMs, failures, s3: { create: createCounts, delete: deleteCounts } };
}

// (c) The original project's way: a copy of the configuration per stack,
// `init`, `workspace new`, `apply`; for the delete `init`, `destroy`,
// `workspace delete`.
export async function runOriginal(setup: Setup, lanes: number, n: number): Promise<PhaseTimes> {
  const root = path.join(setup.workDir, `original-${workspaceId().slice(0, 6)}`);
  await mkdir(root, { recursive: true });
  const env = { ...baseEnv(setup), TF_IN_AUTOMATION: '1' };
  const init = ['init', '-input=false', `-backend-config=${setup.backend.backendConfigFile}`];
  const copy = async (id: string, phase: string) => {
    const dir = path.join(root, `${id}-${phase}`);
    await cp(FIXTURE, dir, { recursive: true, dereference: true });
    return dir;
  };
  const ids = Array.from({ length: n }, () => workspaceId());
  let failures = 0;
  const count = (ok: boolean) => {
    if (!ok) failures += 1;
  };
  const createStarted = performance.now();
  await inLanes(ids, lanes, async (id) => {
    const dir = await copy(id, 'create');
    count(await terraform(init, dir, env));
    count(await terraform(['workspace', 'new', id], dir, env));
    count(await terraform(['apply', '-auto-approve', '-input=false', `-var=resource_id=${id}`], dir, env));
  });
  const createMs = performance.now() - createStarted;
  const deleteStarted = performance.now();
  await inLanes(ids, lanes, async (id) => {
    const dir = await copy(id, 'delete');
    count(await terraform(init, dir, env));
    count(
      await terraform(['destroy', '-auto-approve', '-input=false', `-var=resource_id=${id}`], dir, {
        ...env,
        TF_WORKSPACE: id,
      }),
    );
    count(await terraform(['workspace', 'delete', id], dir, env));
  });
  const deleteMs = performance.now() - deleteStarted;
  await rm(root, { recursive: true, force: true });
  return { createMs, deleteMs, failures };
}

// Other stacks' state, written straight to the emulator where tfcompute keeps
// it (as Terraform writes an empty state), so a run can start with `count`
// workspaces in the bucket without creating them.
export async function seedWorkspaces(emulatorEndpoint: string, count: number): Promise<void> {
  const body = JSON.stringify({
    version: 4,
    terraform_version: '1.11.4',
    serial: 1,
    lineage: 'seeded',
    outputs: {},
    resources: [],
  });
  await inLanes(
    Array.from({ length: count }, () => workspaceId()),
    16,
    async (id) => {
      const response = await fetch(`${emulatorEndpoint}/${STATE_BUCKET}/${stackStatePrefix(id)}/${id}/${STATE_KEY}`, {
        method: 'PUT',
        body,
      });
      if (response.status !== 200) throw new Error(`seeding answered ${response.status}`);
    },
  );
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}
