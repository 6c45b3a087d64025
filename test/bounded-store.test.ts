// Work and memory one client's requests cannot make unbounded: one queued
// plan per stack, every list filter a page of one index, and deleted stacks
// forgotten after the retention period (their sealed inputs at once). Against
// a real Redis, the API where a user sees it, the store directly elsewhere.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { newJobId } from '../core/ids.ts';
import type { DriftStatus, StackStatus } from '../core/schemas/index.ts';
import { Store } from '../core/store/index.ts';
import { assertProblem, useSystems } from './support/harness.ts';
import { uniquePrefix } from './support/use-redis.ts';
import { INPUTS, recordCreate, runJob } from './support/store-stacks.ts';

const [startSystem, services] = useSystems();

const IN_SYNC = { status: 'in_sync' as const, resources: [] };
const DRIFTED = {
  status: 'drifted' as const,
  resources: [{ address: 'terraform_data.instance[0]', action: 'update' as const }],
};

// A store of its own prefix on the file's Redis, keeping finished things for `retentionSeconds`.
function newStore(t: TestContext, retentionSeconds = 3600, prefix = uniquePrefix('bounded')) {
  const redis = new Redis(services().redis.url);
  t.after(() => redis.disconnect());
  return { redis, prefix, store: new Store(redis, prefix, retentionSeconds) };
}

async function create(store: Store, extra: Parameters<typeof recordCreate>[1] = {}) {
  const { id, jobId, outcome } = await recordCreate(store, { maxLive: 20, ...extra });
  assert.equal(outcome.outcome, 'created');
  return { id, jobId };
}

// As a worker records a succeeded create: the apply left the stack in sync.
async function createReady(store: Store, extra: Parameters<typeof create>[1] = {}) {
  const { id, jobId } = await create(store, extra);
  await runJob(store, id, jobId, { jobStatus: 'succeeded', stackStatus: 'ready', drift: IN_SYNC });
  return id;
}

// A delete that runs and succeeds (a stack whose create ran).
async function deleteRun(store: Store, id: string) {
  const jobId = newJobId();
  assert.equal(
    (await store.stacks.requestDelete({ id, jobId, maxAttempts: 3, templateVersion: 'v1' })).outcome,
    'created',
  );
  await runJob(store, id, jobId, { jobStatus: 'succeeded', stackStatus: 'deleted' });
}

// Every key under the prefix, and what the store's own bookkeeping is not.
async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) keys.push(...(batch as string[]));
  return keys.sort();
}

async function bytesOf(redis: Redis, keys: readonly string[]): Promise<number> {
  let total = 0;
  for (const key of keys) total += Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
  return total;
}

// Each key and its size in members or fields.
async function shapeOf(redis: Redis, keys: readonly string[]): Promise<Record<string, number>> {
  const shape: Record<string, number> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    shape[key] =
      type === 'zset'
        ? await redis.zcard(key)
        : type === 'set'
          ? await redis.scard(key)
          : type === 'hash'
            ? await redis.hlen(key)
            : -1;
  }
  return shape;
}

describe('speculative plans', () => {
  test('a plan asked for while another of the stack is still queued is answered with that job; once it runs, a new one queues', async () => {
    const system = await startSystem();
    const created = await system.http().post('/api/ec2instance').send({});
    assert.equal(created.status, 202);
    const id: string = created.body.id;
    // No worker here: the store records the create as a worker would.
    await system.store.jobs.markRunning(id, created.body.job.id);
    await system.store.jobs.finish({
      stackId: id,
      jobId: created.body.job.id,
      jobStatus: 'succeeded',
      stackStatus: 'ready',
      drift: IN_SYNC,
    });

    const first = await system.http().post(`/api/ec2instance/${id}/plan`);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const again = await system.http().post(`/api/ec2instance/${id}/plan`);
    assert.equal(again.status, 202);
    assert.equal(again.headers.location, first.headers.location);
    assert.deepEqual(again.body, first.body);
    assert.equal(await system.store.jobs.pendingCount(id), 1, 'one plan waits');

    await system.store.jobs.markRunning(id, first.body.id);
    const next = await system.http().post(`/api/ec2instance/${id}/plan`);
    assert.equal(next.status, 202);
    assert.notEqual(next.body.id, first.body.id);
    assert.equal(next.body.status, 'queued');
    assert.deepEqual((await system.http().post(`/api/ec2instance/${id}/plan`)).body.id, next.body.id);
    assert.equal(await system.store.jobs.pendingCount(id), 2, 'the running plan and one queued');
  });
});

describe('list filters', () => {
  async function ids(store: Store, query: { status?: StackStatus; drift?: DriftStatus }) {
    return (await store.stacks.list({ template: 'ec2instance', limit: 20, ...query })).items.map((r) => r.id).sort();
  }

  async function setOperations(redis: Redis): Promise<number> {
    const stats = (await redis.info('commandstats')).split('\n');
    return stats
      .filter((line) => /^cmdstat_(zdiffstore|zinterstore|zunionstore):/.test(line))
      .reduce((n, line) => n + Number(/calls=(\d+)/.exec(line)?.[1]), 0);
  }

  test('drift=unknown lists the live stacks never checked, through create, ready, a check finding drift and a delete, each filter a page of one index', async (t) => {
    const { redis, store } = newStore(t);
    const checked = await createReady(store);
    const { id: creating } = await create(store);
    const quiet = await createReady(store);
    const operations = await setOperations(redis);
    assert.deepEqual(await ids(store, { drift: 'unknown' }), [creating]);
    assert.deepEqual(await ids(store, { status: 'creating', drift: 'unknown' }), [creating]);
    assert.deepEqual(await ids(store, { drift: 'in_sync' }), [checked, quiet].sort());
    assert.deepEqual(await ids(store, { status: 'ready', drift: 'in_sync' }), [checked, quiet].sort());

    const plan = newJobId();
    await store.stacks.requestPlan({ id: checked, jobId: plan, maxAttempts: 1, templateVersion: 'v1' });
    await store.jobs.markRunning(checked, plan);
    await store.jobs.finish({
      stackId: checked,
      jobId: plan,
      jobStatus: 'succeeded',
      stackStatus: 'ready',
      drift: DRIFTED,
    });
    assert.deepEqual(await ids(store, { drift: 'drifted' }), [checked]);
    assert.deepEqual(await ids(store, { status: 'ready', drift: 'drifted' }), [checked]);
    assert.deepEqual(await ids(store, { status: 'ready', drift: 'in_sync' }), [quiet]);

    const creatingJob = (await store.stacks.get(creating))?.job.id ?? '';
    await store.jobs.markRunning(creating, creatingJob);
    await store.jobs.finish({
      stackId: creating,
      jobId: creatingJob,
      jobStatus: 'failed',
      stackStatus: 'failed',
    });
    assert.deepEqual(await ids(store, { drift: 'unknown' }), [creating]);
    assert.deepEqual(await ids(store, { status: 'failed', drift: 'unknown' }), [creating]);
    assert.deepEqual(await ids(store, { status: 'creating', drift: 'unknown' }), []);

    await deleteRun(store, creating);
    await deleteRun(store, checked);
    assert.deepEqual(await ids(store, { drift: 'unknown' }), []);
    assert.deepEqual(await ids(store, { drift: 'drifted' }), []);
    assert.deepEqual(await ids(store, { status: 'deleted', drift: 'unknown' }), []);
    assert.deepEqual(await ids(store, { status: 'deleted' }), [checked, creating].sort());
    assert.deepEqual(await store.stacks.countByDrift(), { in_sync: 1, drifted: 0, unknown: 0 });
    assert.equal(await setOperations(redis), operations, 'no list made a set of its own from whole indexes');
  });
});

describe('the drift index migration', () => {
  test('stacks stored before every live stack had a drift index are put in theirs, and lists find them', async (t) => {
    const { redis, prefix, store } = newStore(t);
    const { id: creating } = await create(store);
    const ready = await createReady(store);
    const gone = await createReady(store);
    await deleteRun(store, gone);
    // The layout before: no unknown index, nor one of status and drift together.
    const newer = (await keysUnder(redis, prefix)).filter((key) => /:drift:unknown$|:status:[a-z_]+:drift:/.test(key));
    assert.ok(newer.length > 0);
    await redis.del(...newer);
    await redis.set(`${prefix}:schema`, '2');
    assert.deepEqual((await store.stacks.list({ template: 'ec2instance', drift: 'unknown', limit: 20 })).items, []);

    assert.deepEqual(await store.migrations.run(), {
      'migrate-drift': 2,
      'migrate-deleted': 0,
      'migrate-projects': 0,
      'migrate-webhook-projects': 0,
      'migrate-history': 0,
    });
    const ids = async (query: { status?: StackStatus; drift?: DriftStatus }) =>
      (await store.stacks.list({ template: 'ec2instance', limit: 20, ...query })).items.map((r) => r.id);
    assert.deepEqual(await ids({ drift: 'unknown' }), [creating]);
    assert.deepEqual(await ids({ status: 'creating', drift: 'unknown' }), [creating]);
    assert.deepEqual(await ids({ status: 'ready', drift: 'in_sync' }), [ready]);
    assert.deepEqual(await ids({ status: 'deleted', drift: 'in_sync' }), []);
    assert.equal(await redis.get(`${prefix}:schema`), '7');
    assert.deepEqual(await store.migrations.run(), {}, 'a later start does not scan again');
  });

  test('stacks deleted before deleted stacks were forgotten lose their sealed inputs, and are forgotten a retention period later', async (t) => {
    const retention = 60;
    const { redis, prefix, store } = newStore(t, retention);
    const gone = await createReady(store, { secrets: 'sealed' });
    await deleteRun(store, gone);
    const kept = await createReady(store, { secrets: 'sealed' });
    // As the store left a deleted stack before: its sealed inputs kept, nothing due.
    await redis.hset(`${prefix}:res:${gone}`, 'secrets', 'sealed');
    await redis.del(`${prefix}:res:forget`);
    await redis.set(`${prefix}:schema`, '3');

    assert.deepEqual(await store.migrations.run(), {
      'migrate-deleted': 1,
      'migrate-projects': 0,
      'migrate-webhook-projects': 0,
      'migrate-history': 0,
    });
    assert.equal(await store.stacks.secrets(gone), undefined);
    assert.equal(await store.stacks.secrets(kept), 'sealed', "a live stack's stay");
    assert.equal(await store.stacks.forgetDeleted(new Date(Date.now() + (retention - 5) * 1000)), 0);
    assert.equal(await store.stacks.forgetDeleted(new Date(Date.now() + (retention + 1) * 1000)), 1);
    assert.equal(await store.stacks.get(gone), null);
    assert.equal(await redis.get(`${prefix}:schema`), '7');
  });
});

describe('deleted stacks', () => {
  const KEY = Buffer.alloc(32, 7).toString('base64');
  const templates = {
    TEMPLATES_DIR: `${import.meta.dirname}/templates`,
    ENCRYPTION_KEY: KEY,
    TF_VAR_subnet_id: 'subnet-from-operator',
  };

  test('a stack deleted before its create started loses its sealed inputs at once', async () => {
    const system = await startSystem({ env: templates });
    const created = await system
      .http()
      .post('/api/typed')
      .send({ name: 'web-1', password: 'correct-horse-battery-staple-42' });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const sealed = await system.store.stacks.secrets(created.body.id);
    assert.ok(sealed);
    const deleted = await system.http().delete(`/api/typed/${created.body.id}`);
    assert.equal(deleted.body.status, 'deleted');
    assert.ok(!(await system.everythingInRedis()).includes(sealed), 'the sealed inputs are gone from Redis');
  });

  test('a stack whose delete ran loses its sealed inputs at once, and after the retention period is forgotten: a 404, in no list, its Idempotency-Key gone', async (t) => {
    const system = await startSystem();
    const retention = 60;
    const { redis, prefix, store } = newStore(t, retention, system.config.redisPrefix);
    const id = await createReady(store, { secrets: 'sealed-create', idempotency: { key: 'k1', fingerprint: 'f' } });
    // A failed update keeps its sealed inputs for a retry, until a delete makes one impossible.
    const update = newJobId();
    await store.stacks.requestUpdate({
      id,
      jobId: update,
      maxAttempts: 1,
      templateVersion: 'v1',
      inputs: INPUTS,
      setInputs: [],
      secrets: 'sealed-update',
      autoApply: true,
    });
    await runJob(store, id, update, { jobStatus: 'failed', stackStatus: 'update_failed' });
    const kept = await createReady(store);
    await deleteRun(store, id);
    const everything = await system.everythingInRedis();
    for (const sealed of ['sealed-create', 'sealed-update'])
      assert.ok(!everything.includes(sealed), `${sealed} is gone from Redis`);

    assert.equal(
      (await system.http().get(`/api/ec2instance/${id}`)).body.status,
      'deleted',
      'kept through the retention period',
    );
    assert.equal(await store.stacks.forgetDeleted(new Date(Date.now() + (retention - 5) * 1000)), 0);
    assert.equal(await store.stacks.forgetDeleted(new Date(Date.now() + (retention + 1) * 1000)), 1);

    assertProblem(await system.http().get(`/api/ec2instance/${id}`), 404, 'resource-not-found');
    for (const query of ['', '?status=deleted', '?status=ready']) {
      assert.deepEqual(
        (await system.http().get(`/api/ec2instance${query}`)).body.items.map((r: { id: string }) => r.id),
        query === '?status=deleted' ? [] : [kept],
      );
    }
    assert.equal(await store.stacks.count(), 1);
    assert.equal(await store.stacks.idempotencyKeyTtl('ci', 'k1'), -2);
    const left = await keysUnder(redis, prefix);
    assert.deepEqual(
      left.filter((key) => key.includes(id)),
      [],
    );
    for (const key of left.filter((k) => k.includes(':res:') || k.includes(':tpl:'))) {
      if ((await redis.type(key)) === 'zset')
        assert.ok(!(await redis.zrange(key, '0', '-1')).some((m) => m.endsWith(id)), `${key} still names the stack`);
    }
  });

  test('after 1,000 create and delete cycles and the retention period, Redis holds what the live stacks need and nothing of the deleted ones', async (t) => {
    const retention = 1;
    const { redis, prefix, store } = newStore(t, retention);
    for (let i = 0; i < 10; i++) await createReady(store);
    // Jobs, the stacks' job histories and the events outbox are bounded on their own (job records
    // expire, and a history with them; the outbox is trimmed a day after it is sent).
    const stacksOnly = (keys: string[]) =>
      keys.filter(
        (key) =>
          !key.includes(':job:') &&
          !/:res:[0-9a-z]{16}:jobs$/.test(key) &&
          !key.endsWith(':events:outbox') &&
          !key.endsWith(':metrics:jobs'),
      );
    const liveKeys = stacksOnly(await keysUnder(redis, prefix));
    const live = await bytesOf(redis, liveKeys);
    const liveShape = await shapeOf(redis, liveKeys);

    const deleted: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      // Half deleted before their create ran, half after a create and a delete ran.
      if (i % 2 === 0) {
        const { id } = await create(store, { secrets: 'sealed', idempotency: { key: `k${i}`, fingerprint: 'f' } });
        await store.stacks.requestDelete({ id, jobId: newJobId(), maxAttempts: 3, templateVersion: 'v1' });
        deleted.push(id);
      } else {
        const id = await createReady(store, { secrets: 'sealed', idempotency: { key: `k${i}`, fingerprint: 'f' } });
        await deleteRun(store, id);
        deleted.push(id);
      }
    }
    const windowEnds = Date.now() + retention * 1000;
    const during = await bytesOf(redis, stacksOnly(await keysUnder(redis, prefix)));
    // The window is wall-clock time: the jobs' records expire in Redis on their own.
    await delay(Math.max(0, windowEnds + 100 - Date.now()));
    assert.equal(await store.stacks.forgetDeleted(), 1_000);

    const left = await keysUnder(redis, prefix);
    const after = await bytesOf(redis, stacksOnly(left));
    t.diagnostic(
      `stacks' memory: ${live} B for 10 live; ${during} B with 1,000 deleted in the window; ${after} B after it`,
    );
    assert.ok(during - live > 1_000 * 200, 'the deleted stacks took memory during the window');
    assert.deepEqual(await shapeOf(redis, stacksOnly(left)), liveShape, 'the keys and sizes of the live stacks alone');
    // An index keeps the table it grew to (sized by the most it held at once, not by how many ever came and went).
    assert.ok(after - live < 32 * 1024, `${after - live} B more than the live stacks alone`);
    const names = new Set(deleted);
    assert.deepEqual(
      left.filter((key) => [...names].some((id) => key.includes(id))),
      [],
    );
    assert.equal(left.filter((key) => key.includes(':idem:')).length, 0);
    assert.equal(left.filter((key) => key.includes(':job:')).length, 0, 'every job record expired');
    assert.equal(
      left.filter((key) => /:res:[0-9a-z]{16}:jobs$/.test(key)).length,
      0,
      'and every job history with them',
    );
  });
});
