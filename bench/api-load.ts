// The API alone (no workers, so only enqueueing is measured) under load from
// autocannon, and listing with 100,000 stack records in Redis.
import path from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { loadConfig } from '../core/config.ts';
import { newJobId, newStackId } from '../core/ids.ts';
import { Store } from '../core/store/index.ts';
import { AUTH_ENV, AUTH_HEADER, inLanes, startService } from './processes.ts';
import type { Setup } from './pipeline.ts';

export type LoadResult = { requestsPerSecond: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number };

const CONNECTIONS = 10;
const DURATION_SECONDS = 10;

async function load(options: autocannon.Options): Promise<LoadResult> {
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION_SECONDS, ...options });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

export type ApiResults = {
  post: LoadResult;
  get: LoadResult;
  scale: {
    records: number;
    listFirstPage: LoadResult;
    listFiltered: LoadResult;
    apiIdleRssBytes: number;
    apiRssBytes: number;
    redisBytesPerResource: number;
  };
};

export async function runApiLoad(setup: Setup): Promise<ApiResults> {
  const prefix = `bench-api-${newStackId().slice(0, 6)}`;
  const port = 20000 + Math.floor(Math.random() * 2000);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    PORT: String(port),
    ...AUTH_ENV,
    REDIS_URL: setup.redisUrl,
    REDIS_PREFIX: prefix,
    WORK_DIR: path.join(setup.workDir, prefix),
  };
  const api = await startService('api/main.ts', env, 'api listening');
  const redis = new Redis(setup.redisUrl);
  const apiIdleRssBytes = await api.rssBytes();
  try {
    const base = `http://127.0.0.1:${port}`;
    // Warm up, and make a stack to GET.
    const created = (await (
      await fetch(`${base}/api/ec2instance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...AUTH_HEADER },
        body: '{}',
      })
    ).json()) as { id: string };
    await load({ url: `${base}/api/ec2instance/${created.id}`, headers: AUTH_HEADER, duration: 2 });

    const post = await load({
      url: `${base}/api/ec2instance`,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH_HEADER },
      body: '{"node_count":1}',
    });
    const get = await load({ url: `${base}/api/ec2instance/${created.id}`, headers: AUTH_HEADER });

    // Scale: fill to 100,000 records, as the API writes them.
    const store = new Store(redis, prefix, loadConfig({}).worker.jobRetentionSeconds);
    const records = 100_000;
    const existing = await store.stacks.count();
    const memoryBefore = await usedMemory(redis);
    const inputs = { instance_type: 't3.micro' as const, node_count: 1, tags: { team: 'bench' } };
    await inLanes(
      Array.from({ length: records - existing }, (_, i) => i),
      200,
      async () => {
        await store.stacks.create({
          id: newStackId(),
          jobId: newJobId(),
          template: { name: 'ec2instance', version: 'bench' },
          inputs,
          setInputs: ['tags'],
          maxAttempts: 3,
          owner: 'bench',
          maxLive: 1_000_000,
        });
      },
    );
    const memoryAfter = await usedMemory(redis);
    const listFirstPage = await load({ url: `${base}/api/ec2instance?limit=20`, headers: AUTH_HEADER });
    const listFiltered = await load({ url: `${base}/api/ec2instance?status=creating&limit=100`, headers: AUTH_HEADER });
    const apiRssBytes = await api.rssBytes();
    return {
      post,
      get,
      scale: {
        records,
        listFirstPage,
        listFiltered,
        apiIdleRssBytes,
        apiRssBytes,
        redisBytesPerResource: (memoryAfter - memoryBefore) / (records - existing),
      },
    };
  } finally {
    redis.disconnect();
    await api.stop();
  }
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}
