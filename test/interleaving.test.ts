// A randomised interleaving of creates, deletes, retries and cancels on the
// same and on different stacks, run by two workers at once. Every stack must
// end in a state that agrees with its workspace, and Terraform must never run
// twice at once in one workspace (the probe fixture records any overlap).
// TEST_SEED=n replays a run; the seed is printed as a diagnostic.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { FINISHED_JOB_STATUSES } from '../core/schemas/index.ts';
import { useSystems, type TestSystem } from './support/harness.ts';

const [startSystem, services] = useSystems();

// mulberry32: a small seeded PRNG, so a failing run can be replayed.
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function settle(system: TestSystem, ids: string[]): Promise<void> {
  for (const id of ids) {
    for (;;) {
      const stack = await system.stack(id);
      if (FINISHED_JOB_STATUSES.includes(stack.job.status)) break;
      await system.waitForJob(stack.job.id, 120_000);
    }
  }
}

test('random creates, deletes, retries and cancels end consistent, with Terraform never twice at once in a workspace', async (t) => {
  const seed = Number(process.env.TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`seed ${seed}`);
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

  const system = await startSystem({ fixture: 'probe', concurrency: 3, backoffMs: 100 });
  await system.startWorker();
  await system.startWorker();

  const ids: string[] = [];
  const counts = { create: 0, delete: 0, retry: 0, cancel: 0 };
  const pending: Array<Promise<void>> = [];
  for (let step = 0; step < 40; step += 1) {
    const op: keyof typeof counts =
      ids.length < 3 ? 'create' : pick(['create', 'delete', 'delete', 'retry', 'cancel', 'create'] as const);
    counts[op] += 1;
    const id = ids.length > 0 ? pick(ids) : '';
    const request = (async () => {
      if (op === 'create') {
        const res = await system
          .http()
          .post('/api/ec2instance')
          .send({ node_count: 1 + Math.floor(next() * 2), tags: next() < 0.4 ? { fail: 'once' } : {} });
        assert.equal(res.status, 202, res.text);
        ids.push(res.body.id);
      } else if (op === 'delete') {
        const res = await system.http().delete(`/api/ec2instance/${id}`);
        assert.ok([200, 202].includes(res.status), res.text);
      } else if (op === 'retry') {
        const res = await system.http().post(`/api/ec2instance/${id}/retry`);
        assert.ok([202, 409].includes(res.status), res.text);
      } else {
        const stack = await system.stack(id);
        const res = await system.http().post(`/api/jobs/${stack.job.id}/cancel`);
        assert.ok([200, 202, 409].includes(res.status), res.text);
      }
    })();
    pending.push(request);
    // Sometimes wait for the request, sometimes let several race.
    if (next() < 0.5) await request;
    if (next() < 0.3) await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 400)));
  }
  await Promise.all(pending);
  await settle(system, ids);

  const problems: string[] = [];
  for (const id of ids) {
    const stack = await system.stack(id);
    const state = await system.stateObjectStatus(id);
    const addresses = await system.stateAddresses(id);
    const ops = await system.store.jobs.pendingCount(id);
    if (ops !== 0) problems.push(`${id}: ${ops} jobs still pending`);
    if (
      stack.status === 'ready' &&
      addresses.filter((a) => a.startsWith('terraform_data.instance')).length !== stack.inputs.node_count
    ) {
      problems.push(`${id}: ready, but the state holds ${addresses.length} resources`);
    }
    if (stack.status === 'ready' && stack.outputs.resource_id !== id) problems.push(`${id}: ready without its outputs`);
    if (stack.status === 'deleted' && state !== 404) problems.push(`${id}: deleted, but its workspace is still there`);
    if ((stack.status === 'failed' || stack.status === 'delete_failed') && !stack.error)
      problems.push(`${id}: ${stack.status} without an error`);
    if (stack.status === 'creating' || stack.status === 'deleting') problems.push(`${id}: still ${stack.status}`);
  }
  const overlaps = (await readdir(services().dir)).filter((name) => name.startsWith('overlap-'));
  assert.deepEqual(problems, []);
  assert.deepEqual(overlaps, [], 'Terraform never ran twice at once in one workspace');
  assert.deepEqual(await system.services.backend.lockHolders(), [], 'no lock is left');

  // Finally every stack is deleted, and no workspace is left behind.
  for (const id of ids) await system.http().delete(`/api/ec2instance/${id}`);
  await settle(system, ids);
  for (const id of ids) assert.equal((await system.stack(id)).status, 'deleted', id);
  const left = (await system.services.backend.listStateKeys()).filter((key) =>
    ids.some((id) => key.includes(`/${id}/`)),
  );
  assert.deepEqual(left, [], 'no orphaned workspace');
  t.diagnostic(`interleaving: ${ids.length} stacks, ${JSON.stringify(counts)}`);
});
