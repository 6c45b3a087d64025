// Redis memory per deleted stack, during the retention period and after it:
// create and delete cycles recorded directly in the store as the API and a
// worker would record them (no Terraform: only what Redis keeps matters
// here), half deleted before their create ran and half after a create and a
// delete ran, beside a few live stacks; then the period ends and the
// worker's sweep forgets them.
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { newJobId, newStackId } from '../core/ids.ts';
import { Store } from '../core/store/index.ts';
import type { Setup } from './pipeline.ts';

const TEMPLATE = { name: 'ec2instance', version: 'v1' };
const RETENTION_SECONDS = 1;
const LIVE = 10;

export type RetentionResults = {
  cycles: number;
  live: number;
  bytesPerDeletedInWindow: number;
  bytesPerDeletedAfter: number;
  outboxBytesPerCycle: number;
};

export async function runRetention(
  setup: Setup,
  log: (message: string) => void,
  cycles = 1_000,
): Promise<RetentionResults> {
  const redis = new Redis(setup.redisUrl);
  const prefix = `bench-retention-${Date.now()}`;
  const store = new Store(redis, prefix, RETENTION_SECONDS);
  try {
    log(`retention: ${cycles} create/delete cycles beside ${LIVE} live stacks`);
    for (let i = 0; i < LIVE; i++) await createStack(store, true);
    const live = await bytesUnder(redis, prefix);
    for (let i = 0; i < cycles; i++) await deleteStack(store, await createStack(store, i % 2 === 1));
    const windowEnds = Date.now() + RETENTION_SECONDS * 1000;
    const inWindow = await bytesUnder(redis, prefix);
    // The jobs' records expire in Redis on their own, on the clock.
    await delay(Math.max(0, windowEnds + 100 - Date.now()));
    await store.stacks.forgetDeleted();
    const after = await bytesUnder(redis, prefix);
    return {
      cycles,
      live: LIVE,
      bytesPerDeletedInWindow: (inWindow.stacks - live.stacks) / cycles,
      bytesPerDeletedAfter: (after.stacks - live.stacks) / cycles,
      outboxBytesPerCycle: (after.outbox - live.outbox) / cycles,
    };
  } finally {
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 1000 }))
      keys.push(...(batch as string[]));
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}

// `run`: its create job ran (and succeeded) before anything else.
async function createStack(store: Store, run: boolean): Promise<{ id: string; run: boolean }> {
  const id = newStackId();
  const jobId = newJobId();
  await store.stacks.create({
    id,
    jobId,
    template: TEMPLATE,
    inputs: { node_count: 1 },
    setInputs: ['node_count'],
    secrets: 'sealed',
    maxAttempts: 1,
    owner: 'bench',
    maxLive: 1_000_000,
  });
  if (run) {
    await store.jobs.markRunning(id, jobId);
    await store.jobs.finish({
      stackId: id,
      jobId,
      jobStatus: 'succeeded',
      stackStatus: 'ready',
      outputs: { id },
      drift: { status: 'in_sync', resources: [] },
    });
  }
  return { id, run };
}

async function deleteStack(store: Store, stack: { id: string; run: boolean }): Promise<void> {
  const jobId = newJobId();
  await store.stacks.requestDelete({ id: stack.id, jobId, maxAttempts: 1, templateVersion: TEMPLATE.version });
  if (!stack.run) return;
  await store.jobs.markRunning(stack.id, jobId);
  await store.jobs.finish({ stackId: stack.id, jobId, jobStatus: 'succeeded', stackStatus: 'deleted' });
}

// MEMORY USAGE of every key under the prefix: the events outbox apart (it is
// trimmed a day after its entries are sent, whatever the stacks).
async function bytesUnder(redis: Redis, prefix: string): Promise<{ stacks: number; outbox: number }> {
  const sizes = { stacks: 0, outbox: 0 };
  for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
    for (const key of batch as string[]) {
      const bytes = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
      if (key.endsWith(':events:outbox')) sizes.outbox += bytes;
      else sizes.stacks += bytes;
    }
  }
  return sizes;
}
