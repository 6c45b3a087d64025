// The store's Lua scripts, each outcome of each, run directly against a real
// redis-server; and the script loader and key layout they rely on.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { beforeEach, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { newJobId, newStackId } from '../core/ids.ts';
import { JOB_DURATION_BUCKETS, Store } from '../core/store/index.ts';
import { IndexMember } from '../core/store/keys.ts';
import { loadScripts } from '../core/store/scripts.ts';
import { uniquePrefix, useRedis } from './support/use-redis.ts';
import { INPUTS, recordCreate, runJob, TEMPLATE } from './support/store-stacks.ts';

const RETENTION = 3600;

const connection = useRedis('store');
let redis: Redis;
let store: Store;
let prefix: string;

beforeEach(() => {
  redis = connection().redis;
  prefix = uniquePrefix('store');
  store = new Store(redis, prefix, RETENTION);
});

function newStack(overrides: Parameters<typeof recordCreate>[1] = {}) {
  return recordCreate(store, overrides);
}

async function readyStack() {
  const { id, jobId } = await newStack();
  await runJob(store, id, jobId, { jobStatus: 'succeeded', stackStatus: 'ready', outputs: { a: 1 } });
  return id;
}

// Both run version v2 of the template the resources were made with (v1).
function requestDelete(id: string, jobId: string) {
  return store.stacks.requestDelete({ id, jobId, maxAttempts: 3, templateVersion: 'v2' });
}

function requestRetry(id: string, jobId: string) {
  return store.stacks.requestRetry({
    id,
    jobId,
    maxAttempts: 3,
    templateVersion: 'v2',
    inputs: { ...INPUTS, added: 'a v2 default' },
  });
}

async function statusCounts() {
  const counts = await store.stacks.countByStatus();
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

describe('the script loader', () => {
  test('loads one file per script, named with its number of keys, with includes resolved once each', async () => {
    const scripts = loadScripts();
    // The scripts the store's code can name are the keys of ScriptArgs: a
    // file missing or misnamed in lua/ is one of them not loaded.
    const types = await readFile(new URL('../core/store/script-args.ts', import.meta.url), 'utf8');
    const declared = /export type ScriptArgs = \{\n([\s\S]*?)\n\};/.exec(types)?.[1] ?? '';
    const named = [...declared.matchAll(/^ {2}'?([a-z-]+)'?: /gm)].map((m) => m[1]);
    assert.ok(named.length > 30);
    assert.deepEqual([...scripts.keys()].sort(), named.sort());
    for (const { name, numberOfKeys, lua } of scripts.values()) {
      assert.ok(numberOfKeys >= 1, name);
      assert.doesNotMatch(lua, /@include/, `${name}: every include resolved`);
      const definitions = lua.match(/^local function (\w+)/gm) ?? [];
      assert.equal(new Set(definitions).size, definitions.length, `${name}: no piece included twice`);
      assert.match(lua, /^ {4}ARGV\[1\] +key prefix$/m, `${name}: its header says the prefix is ARGV[1]`);
      assert.doesNotMatch(lua, /^local (?!prefix )\w+ = ARGV\[1\]$/m, `${name}: ARGV[1] is only ever the prefix`);
      assert.match(lua, /^ {4}ARGV\[2\] the arguments \(JSON/m, `${name}: its header says ARGV[2] holds its arguments`);
      assert.doesNotMatch(lua, /ARGV\[(?![12]\])/, `${name}: nothing is passed past ARGV[2]`);
    }
  });

  test('a packed argument reaches Redis as a positional one did: a lone surrogate as U+FFFD, not a refused escape', async () => {
    assert.equal(await store.projects.create('lone', 'a\ud800b', {}), true);
    assert.equal((await store.projects.get('lone'))?.description, 'a\ufffdb');
  });

  test('the duration buckets in observe-duration.lua are JOB_DURATION_BUCKETS', async () => {
    const lua = await readFile(new URL('../core/store/lua/includes/observe-duration.lua', import.meta.url), 'utf8');
    const list = /DURATION_BUCKETS = \{([^}]*)\}/.exec(lua)?.[1] ?? '';
    assert.deepEqual(list.split(',').map(Number), JOB_DURATION_BUCKETS);
  });

  test('index members sort by creation time and decode to their resource id', () => {
    const id = newStackId();
    const member = IndexMember.encode(1_700_000_000_000, id);
    assert.equal(IndexMember.id(member), id);
    assert.ok(IndexMember.encode(999, id) < member);
    // creatingSince() reads members below this bound: earlier ones only.
    const bound = IndexMember.before(1_700_000_000_000).slice(1);
    assert.ok(IndexMember.encode(1_699_999_999_999, id) < bound && member > bound);
    assert.equal(IndexMember.isMember('not-a-member'), false);
    assert.throws(() => IndexMember.id('0:x'), /not an index member/);
  });
});

describe('create', () => {
  test("created: the resource, its queued create job, its index entries and its owner's live count", async () => {
    const { id, jobId, outcome } = await newStack({ expiresAt: new Date('2030-01-01T00:00:00Z') });
    assert.deepEqual(outcome, { outcome: 'created' });
    const stack = await store.stacks.get(id);
    assert.equal(stack?.status, 'creating');
    assert.deepEqual(stack?.job, { id: jobId, action: 'create', status: 'queued', href: `/api/jobs/${jobId}` });
    assert.equal(stack?.expires_at, '2030-01-01T00:00:00.000Z');
    const job = await store.jobs.get(jobId);
    assert.equal(job?.status, 'queued');
    assert.equal(job?.attempts, 0);
    assert.equal(await store.jobs.head(id), jobId);
    assert.deepEqual(await statusCounts(), { creating: 1 });
    assert.equal(await store.stacks.count(), 1);
  });

  test('replay: a used Idempotency-Key names the resource it made, with its fingerprint, and writes nothing', async () => {
    const first = await newStack({ idempotency: { key: 'k1', fingerprint: 'f1' } });
    const second = await newStack({ idempotency: { key: 'k1', fingerprint: 'f2' } });
    assert.deepEqual(second.outcome, { outcome: 'replay', stackId: first.id, fingerprint: 'f1' });
    assert.equal(await store.stacks.get(second.id), null);
    assert.equal(await store.stacks.count(), 1);
    const ttl = await store.stacks.idempotencyKeyTtl('ci', 'k1');
    assert.ok(ttl > 23 * 3600 && ttl <= 24 * 3600);
  });

  test('a key whose resource was discarded makes a new one', async () => {
    const first = await newStack({ idempotency: { key: 'k2', fingerprint: 'f' } });
    await store.stacks.discard(first.id, first.jobId, 'ci', 'k2');
    const second = await newStack({ idempotency: { key: 'k2', fingerprint: 'f' } });
    assert.deepEqual(second.outcome, { outcome: 'created' });
  });

  test('cap: an owner at its cap of live resources gets nothing; deleted ones do not count', async () => {
    const kept = await newStack({ maxLive: 1 });
    const refused = await newStack({ maxLive: 1 });
    assert.deepEqual(refused.outcome, { outcome: 'cap', live: 1 });
    assert.equal(await store.stacks.get(refused.id), null);
    await requestDelete(kept.id, newJobId());
    assert.deepEqual((await newStack({ maxLive: 1 })).outcome, { outcome: 'created' });
  });
});

describe('request-delete', () => {
  test('missing', async () => {
    assert.deepEqual(await requestDelete(newStackId(), newJobId()), { outcome: 'missing' });
  });

  test('cancelled: a create that never started is cancelled and the resource deleted at once', async () => {
    const { id, jobId } = await newStack();
    const deleteJobId = newJobId();
    assert.deepEqual(await requestDelete(id, deleteJobId), {
      outcome: 'cancelled',
      jobId: deleteJobId,
      cancelledJobId: jobId,
    });
    assert.equal((await store.jobs.get(jobId))?.status, 'cancelled');
    const deleteJob = await store.jobs.get(deleteJobId);
    assert.equal(deleteJob?.status, 'succeeded');
    assert.deepEqual(deleteJob?.template, { name: 'ec2instance', version: 'v2' });
    assert.match(await store.logs.get(deleteJobId), /had not started; it was cancelled/);
    assert.equal((await store.stacks.get(id))?.status, 'deleted');
    assert.equal(await store.jobs.pendingCount(id), 0);
    assert.deepEqual(await statusCounts(), { deleted: 1 });
    const durations = await store.metrics.jobDurations();
    assert.equal(durations['create|cancelled|count'], '1');
  });

  test('created: a started create is not cancelled; the delete queues behind it', async () => {
    const { id, jobId } = await newStack();
    await store.jobs.markRunning(id, jobId);
    const deleteJobId = newJobId();
    assert.deepEqual(await requestDelete(id, deleteJobId), {
      outcome: 'created',
      jobId: deleteJobId,
      discardedJobId: null,
    });
    const stack = await store.stacks.get(id);
    assert.equal(stack?.status, 'deleting');
    // The delete runs the template as served when it was asked for; the
    // stack keeps the version its inputs were validated against.
    assert.deepEqual((await store.jobs.get(jobId))?.template, TEMPLATE);
    assert.deepEqual((await store.jobs.get(deleteJobId))?.template, { name: 'ec2instance', version: 'v2' });
    assert.deepEqual(stack?.template, TEMPLATE);
    assert.equal(await store.jobs.head(id), jobId);
    assert.equal(await store.jobs.pendingCount(id), 2);
    assert.deepEqual(await statusCounts(), { deleting: 1 });
  });

  test('existing, then deleted: a delete already requested is named again', async () => {
    const id = await readyStack();
    const deleteJobId = newJobId();
    await requestDelete(id, deleteJobId);
    assert.deepEqual(await requestDelete(id, newJobId()), { outcome: 'existing', jobId: deleteJobId });
    await runJob(store, id, deleteJobId, { jobStatus: 'succeeded', stackStatus: 'deleted' });
    assert.deepEqual(await requestDelete(id, newJobId()), { outcome: 'deleted', jobId: deleteJobId });
  });
});

describe('request-retry', () => {
  test('missing', async () => {
    assert.deepEqual(await requestRetry(newStackId(), newJobId()), { outcome: 'missing' });
  });

  test('conflict: only a failed create is retried', async () => {
    const id = await readyStack();
    assert.deepEqual(await requestRetry(id, newJobId()), { outcome: 'conflict', status: 'ready' });
  });

  test('created: a failed create gets a new create job, marked as a retry, and the stack takes the version it runs', async () => {
    const { id, jobId } = await newStack();
    await runJob(store, id, jobId, {
      jobStatus: 'failed',
      stackStatus: 'failed',
      error: { code: 'internal', message: 'x', retryable: false, diagnostics: [] },
    });
    const retryId = newJobId();
    assert.deepEqual(await requestRetry(id, retryId), { outcome: 'created', jobId: retryId });
    const stack = await store.stacks.get(id);
    assert.equal(stack?.status, 'creating');
    assert.equal(stack?.error, undefined);
    assert.equal(stack?.job.id, retryId);
    assert.deepEqual(stack?.template, { name: 'ec2instance', version: 'v2' });
    assert.deepEqual(stack?.inputs, { ...INPUTS, added: 'a v2 default' });
    assert.deepEqual((await store.jobs.get(retryId))?.template, { name: 'ec2instance', version: 'v2' });
    // A retry is never cancelled by a DELETE as a create that never started.
    assert.equal((await requestDelete(id, newJobId())).outcome, 'created');
  });
});

describe('cancel', () => {
  test('missing', async () => {
    assert.deepEqual(await store.jobs.cancel(newStackId(), newJobId()), { outcome: 'missing' });
  });

  test('cancelled: a queued create ends cancelled and its resource failed; nothing waits behind it', async () => {
    const { id, jobId } = await newStack();
    assert.deepEqual(await store.jobs.cancel(id, jobId), { outcome: 'cancelled', next: null });
    const stack = await store.stacks.get(id);
    assert.equal(stack?.status, 'failed');
    assert.equal(stack?.job.status, 'cancelled');
    assert.equal((await store.jobs.retention(jobId)).record <= RETENTION, true);
  });

  test('cancelled: a queued delete ends cancelled, its resource delete_failed, and the next job is named', async () => {
    const id = await readyStack();
    const deleteJobId = newJobId();
    await requestDelete(id, deleteJobId);
    assert.deepEqual(await store.jobs.cancel(id, deleteJobId), { outcome: 'cancelled', next: null });
    assert.equal((await store.stacks.get(id))?.status, 'delete_failed');

    const { id: other, jobId: createJobId } = await newStack();
    await store.jobs.markRunning(other, createJobId);
    const behind = newJobId();
    await requestDelete(other, behind);
    assert.deepEqual(await store.jobs.cancel(other, behind), { outcome: 'cancelled', next: createJobId });
  });

  test('signalled: a running job is flagged, and its next start is refused', async () => {
    const { id, jobId } = await newStack();
    await store.jobs.markRunning(id, jobId);
    assert.deepEqual(await store.jobs.cancel(id, jobId), { outcome: 'signalled' });
    await store.jobs.requeue(id, jobId, undefined);
    assert.deepEqual(await store.jobs.markRunning(id, jobId), { outcome: 'cancel-requested' });
  });

  test('finished', async () => {
    const id = await readyStack();
    const jobId = (await store.stacks.get(id))?.job.id ?? '';
    assert.deepEqual(await store.jobs.cancel(id, jobId), { outcome: 'finished', status: 'succeeded' });
  });
});

describe('mark-running, requeue and finish', () => {
  test('running: each start counts an attempt; the first sets started_at', async () => {
    const { id, jobId } = await newStack();
    assert.deepEqual(await store.jobs.markRunning(id, jobId), { outcome: 'running', attempt: 1 });
    const started = (await store.jobs.get(jobId))?.started_at;
    assert.equal((await store.stacks.get(id))?.job.status, 'running');
    await store.jobs.requeue(id, jobId, { code: 'lock-held', message: 'lock held', retryable: true, diagnostics: [] });
    const requeued = await store.jobs.get(jobId);
    assert.equal(requeued?.status, 'queued');
    assert.equal(requeued?.error?.message, 'lock held');
    assert.equal((await store.stacks.get(id))?.job.status, 'queued');
    assert.deepEqual(await store.jobs.markRunning(id, jobId), { outcome: 'running', attempt: 2 });
    assert.equal((await store.jobs.get(jobId))?.started_at, started);
  });

  test('finished: a job that has ended, or whose record is gone, does not start', async () => {
    const id = await readyStack();
    const jobId = (await store.stacks.get(id))?.job.id ?? '';
    assert.deepEqual(await store.jobs.markRunning(id, jobId), { outcome: 'finished' });
    assert.deepEqual(await store.jobs.markRunning(id, newJobId()), { outcome: 'finished' });
  });

  test('finish: records the end, the outputs and the duration; names the next job; a second finish changes nothing', async () => {
    const { id, jobId } = await newStack();
    await store.jobs.markRunning(id, jobId);
    const deleteJobId = newJobId();
    await requestDelete(id, deleteJobId);
    const result = { outputs: { a: 1 }, changes: { add: 1, change: 0, remove: 0 }, duration_ms: 5 };
    await store.logs.append(jobId, 'applied\n');
    assert.deepEqual(
      await store.jobs.finish({
        stackId: id,
        jobId,
        jobStatus: 'succeeded',
        stackStatus: 'ready',
        outputs: { a: 1 },
        result,
      }),
      { outcome: 'finished', next: deleteJobId },
    );
    const stack = await store.stacks.get(id);
    // Not its current job any more: the outputs are kept, the status stays "deleting".
    assert.equal(stack?.status, 'deleting');
    assert.deepEqual(stack?.outputs, { a: 1 });
    assert.deepEqual((await store.jobs.get(jobId))?.result, result);
    const retention = await store.jobs.retention(jobId);
    assert.ok(retention.record > 0 && retention.record <= RETENTION);
    assert.ok(retention.log > 0 && retention.log <= RETENTION);
    assert.equal((await store.metrics.jobDurations())['create|succeeded|count'], '1');

    assert.deepEqual(await store.jobs.finish({ stackId: id, jobId, jobStatus: 'failed', stackStatus: 'failed' }), {
      outcome: 'already-finished',
      next: deleteJobId,
    });
    assert.equal((await store.jobs.get(jobId))?.status, 'succeeded');
  });
});

describe('discard', () => {
  test('removes the resource, its job, its log, its index entries, its live count and its Idempotency-Key', async () => {
    const { id, jobId } = await newStack({ idempotency: { key: 'k', fingerprint: 'f' } });
    await store.logs.append(jobId, 'x');
    await store.stacks.discard(id, jobId, 'ci', 'k');
    assert.equal(await store.stacks.get(id), null);
    assert.equal(await store.jobs.get(jobId), null);
    assert.equal(await store.logs.get(jobId), '');
    assert.equal(await store.stacks.count(), 0);
    assert.deepEqual(await statusCounts(), {});
    assert.equal(await store.stacks.idempotencyKeyTtl('ci', 'k'), -2);
    assert.equal(await redis.exists(`${prefix}:res:${id}:jobs`), 0, 'nor a job history');
    assert.deepEqual((await newStack({ maxLive: 1 })).outcome, { outcome: 'created' });
  });
});

describe('job history', () => {
  const by = (name: string, action: 'stack.retry' | 'stack.update' | 'stack.delete') => ({
    actor: { kind: 'token' as const, name },
    requestId: 'r1',
    action,
  });
  const historyOf = async (id: string) => (await store.jobs.history(id, { limit: 20 })).items;
  const ttlOf = (id: string) => redis.ttl(`${prefix}:res:${id}:jobs`);

  test('every job a stack gets joins its history, newest first, with who asked; it lasts while a job is unfinished, then as long as the last record, and goes when the stack is forgotten', async () => {
    const { id, jobId: create } = await newStack({ createdBy: 'alice' });
    assert.equal(await ttlOf(id), -1, 'persists while the create is unfinished');
    await runJob(store, id, create, {
      jobStatus: 'failed',
      stackStatus: 'failed',
      error: { code: 'internal', message: 'x', retryable: false, diagnostics: [] },
    });
    const afterFailure = await ttlOf(id);
    assert.ok(afterFailure > 0 && afterFailure <= RETENTION, 'expires with the record once nothing is unfinished');
    const retry = newJobId();
    await store.stacks.requestRetry({
      id,
      jobId: retry,
      maxAttempts: 3,
      templateVersion: 'v1',
      inputs: INPUTS,
      audit: by('bob', 'stack.retry'),
    });
    assert.equal(await ttlOf(id), -1);
    await runJob(store, id, retry, { jobStatus: 'succeeded', stackStatus: 'ready' });
    const plan = newJobId();
    await store.stacks.requestPlan({ id, jobId: plan, maxAttempts: 1, templateVersion: 'v1', onlyIfIdle: true });
    await runJob(store, id, plan, {
      jobStatus: 'succeeded',
      stackStatus: 'ready',
      drift: { status: 'in_sync', resources: [] },
    });
    const update = newJobId();
    await store.stacks.requestUpdate({
      id,
      jobId: update,
      maxAttempts: 3,
      templateVersion: 'v1',
      inputs: INPUTS,
      setInputs: [],
      secrets: undefined,
      autoApply: false,
      audit: by('carol', 'stack.update'),
    });
    await store.jobs.cancel(id, update);
    const remove = newJobId();
    await store.stacks.requestDelete({
      id,
      jobId: remove,
      maxAttempts: 3,
      templateVersion: 'v1',
      audit: by('dave', 'stack.delete'),
    });
    await runJob(store, id, remove, { jobStatus: 'succeeded', stackStatus: 'deleted' });

    const history = await historyOf(id);
    assert.deepEqual(new Set(history.map((job) => job.id)), new Set([create, retry, plan, update, remove]));
    const times = history.map((job) => Date.parse(job.created_at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      'newest first',
    );
    const who = Object.fromEntries(history.map((job) => [job.id, [job.action, job.created_by]]));
    assert.deepEqual(who, {
      [create]: ['create', 'alice'],
      [retry]: ['create', 'bob'],
      [plan]: ['plan', null],
      [update]: ['update', 'carol'],
      [remove]: ['delete', 'dave'],
    });
    const page = await store.jobs.history(id, { limit: 2 });
    assert.equal(page.items.length, 2);
    const rest = await store.jobs.history(id, { limit: 20, cursor: page.nextCursor ?? assert.fail('a next page') });
    assert.deepEqual(
      [...page.items, ...rest.items].map((job) => job.id),
      history.map((job) => job.id),
      'paged by the cursor',
    );
    const left = await ttlOf(id);
    assert.ok(left > 0 && left <= RETENTION);

    assert.equal(await store.stacks.forgetDeleted(new Date(Date.now() + (RETENTION + 1) * 1000)), 1);
    assert.equal(await redis.exists(`${prefix}:res:${id}:jobs`), 0, 'forgotten with the stack');
  });

  test('a job finishing drops the ids of jobs recorded longer ago than the retention period whose records have expired, and keeps the rest', async () => {
    const id = await readyStack();
    const [create] = (await historyOf(id)).map((job) => job.id);
    const key = `${prefix}:res:${id}:jobs`;
    const old = Date.now() - (RETENTION + 60) * 1000;
    const expired = newJobId();
    // A job that waited past the retention period is still there; one long finished is not.
    await redis.del(key);
    await redis.zadd(key, 0, IndexMember.encode(old, create ?? ''), 0, IndexMember.encode(old + 1, expired));
    const plan = newJobId();
    await store.stacks.requestPlan({ id, jobId: plan, maxAttempts: 1, templateVersion: 'v1' });
    assert.equal(await redis.zcard(key), 3, 'a new job prunes nothing');
    await runJob(store, id, plan, { jobStatus: 'succeeded', stackStatus: 'ready' });
    const members = await redis.zrange(key, '-', '+', 'BYLEX');
    assert.deepEqual(
      members.map((member) => IndexMember.id(member)),
      [create, plan],
    );
    assert.deepEqual(
      (await historyOf(id)).map((job) => job.id),
      [plan, create],
    );
  });

  test('migrate-history gives a stack from before histories the jobs its record still names, at their creation times', async () => {
    const id = await readyStack();
    const [create] = await historyOf(id);
    const plan = newJobId();
    await store.stacks.requestPlan({ id, jobId: plan, maxAttempts: 1, templateVersion: 'v1' });
    await redis.del(`${prefix}:res:${id}:jobs`);
    await redis.set(`${prefix}:schema`, '6');
    assert.deepEqual(await store.migrations.run(), { 'migrate-history': 1 });
    const members = await redis.zrange(`${prefix}:res:${id}:jobs`, '-', '+', 'BYLEX');
    const planJob = await store.jobs.get(plan);
    assert.deepEqual(
      new Set(members),
      new Set([
        IndexMember.encode(Date.parse(create?.created_at ?? ''), create?.id ?? ''),
        IndexMember.encode(Date.parse(planJob?.created_at ?? ''), plan),
      ]),
    );
    assert.equal(await ttlOf(id), -1, 'the plan is unfinished');
    assert.equal(await redis.get(`${prefix}:schema`), '7');
  });
});

describe('drift', () => {
  const drifted = {
    status: 'drifted' as const,
    resources: [{ address: 'terraform_data.instance[0]', action: 'update' as const }],
  };

  async function plan(id: string, onlyIfIdle = false) {
    const jobId = newJobId();
    return {
      jobId,
      request: await store.stacks.requestPlan({ id, jobId, maxAttempts: 1, templateVersion: 'v1', onlyIfIdle }),
    };
  }

  test("a finished plan or apply records the stack's drift, its index and its count; a deleted stack leaves them", async () => {
    const inSync = await readyStack();
    const unknown = (await newStack()).id;
    const checked = await readyStack();
    const { jobId } = await plan(checked);
    await runJob(store, checked, jobId, {
      jobStatus: 'succeeded',
      stackStatus: 'ready',
      drift: drifted,
    });
    const quiet = (await plan(inSync)).jobId;
    await store.jobs.finish({
      stackId: inSync,
      jobId: quiet,
      jobStatus: 'succeeded',
      stackStatus: 'ready',
      drift: { status: 'in_sync', resources: [] },
    });

    const shown = await store.stacks.get(checked);
    assert.equal(shown?.drift.status, 'drifted');
    assert.deepEqual(shown?.drift.job, { id: jobId, href: `/api/jobs/${jobId}` });
    assert.deepEqual(shown?.drift.resources, drifted.resources);
    assert.ok(shown?.drift.checked_at);
    assert.equal(shown?.status, 'ready');
    assert.deepEqual((await store.stacks.get(unknown))?.drift, {
      status: 'unknown',
      checked_at: null,
      job: null,
      resources: [],
    });
    assert.deepEqual(await store.stacks.countByDrift(), { in_sync: 1, drifted: 1, unknown: 1 });

    const ids = async (query: { status?: 'ready' | 'creating'; drift?: 'in_sync' | 'drifted' | 'unknown' }) =>
      (await store.stacks.list({ template: 'ec2instance', limit: 10, ...query })).items.map((r) => r.id);
    assert.deepEqual(await ids({ drift: 'drifted' }), [checked]);
    assert.deepEqual(await ids({ drift: 'in_sync' }), [inSync]);
    assert.deepEqual(await ids({ drift: 'unknown' }), [unknown]);
    assert.deepEqual(await ids({ status: 'ready', drift: 'drifted' }), [checked]);
    assert.deepEqual(await ids({ status: 'creating', drift: 'drifted' }), []);
    assert.deepEqual(await ids({ status: 'creating', drift: 'unknown' }), [unknown]);

    const deleteJob = newJobId();
    await requestDelete(checked, deleteJob);
    await runJob(store, checked, deleteJob, {
      jobStatus: 'succeeded',
      stackStatus: 'deleted',
    });
    assert.deepEqual(await store.stacks.countByDrift(), { in_sync: 1, drifted: 0, unknown: 1 });
    assert.deepEqual(await ids({ drift: 'drifted' }), []);
    assert.deepEqual(await ids({ drift: 'unknown' }), [unknown]);
  });

  test('a drift check joins only an idle ready stack, and finds its own job again after its worker died', async () => {
    const id = await readyStack();
    const first = await plan(id, true);
    assert.deepEqual(first.request, { outcome: 'created', jobId: first.jobId });
    assert.deepEqual((await plan(id, true)).request, { outcome: 'busy' });
    assert.deepEqual(
      await store.stacks.requestPlan({
        id,
        jobId: first.jobId,
        maxAttempts: 1,
        templateVersion: 'v1',
        onlyIfIdle: true,
      }),
      { outcome: 'exists', headId: first.jobId },
    );
    assert.deepEqual((await plan(newStackId(), true)).request, { outcome: 'missing' });
    assert.deepEqual((await plan((await newStack()).id, true)).request, { outcome: 'conflict', status: 'creating' });
    // A user's plan while it waits is answered with it: one plan waits per stack.
    assert.deepEqual((await plan(id)).request, { outcome: 'queued', jobId: first.jobId });
  });

  test('a sweep finds the ready stacks due a check: none busy, none checked since', async () => {
    const due = await readyStack();
    const recent = await readyStack();
    const busy = await readyStack();
    await newStack();
    const { jobId } = await plan(recent, true);
    await store.jobs.finish({
      stackId: recent,
      jobId,
      jobStatus: 'succeeded',
      stackStatus: 'ready',
      drift: { status: 'in_sync', resources: [] },
    });
    await plan(busy);
    const ready: string[] = [];
    for await (const batch of store.stacks.readyBatches(2)) ready.push(...batch);
    assert.deepEqual(ready.sort(), [due, recent, busy].sort());
    assert.deepEqual(await store.stacks.driftCheckDue(ready, new Date(Date.now() - 60_000)), [due]);
    assert.deepEqual(
      (await store.stacks.driftCheckDue(ready, new Date(Date.now() + 1_000))).sort(),
      [due, recent].sort(),
    );
  });
});

describe('migrate-templates', () => {
  test("gives every resource recorded before templates its template and that template's indexes, in batches, once", async () => {
    const templated = await readyStack();
    // Records as the store wrote them before templates: no template field,
    // in the installation's indexes only.
    const legacy: string[] = [];
    const pipeline = redis.pipeline();
    for (let i = 0; i < 1_201; i++) {
      const id = newStackId();
      const member = IndexMember.encode(1_700_000_000_000 + i, id);
      const status = i % 2 === 0 ? 'ready' : 'failed';
      pipeline.hset(`${prefix}:res:${id}`, {
        id,
        status,
        member,
        inputs: JSON.stringify(INPUTS),
        outputs: '{}',
        created_by: 'ci',
      });
      pipeline.zadd(`${prefix}:res:index`, 0, member);
      pipeline.zadd(`${prefix}:res:status:${status}`, 0, member);
      legacy.push(id);
    }
    await pipeline.exec();
    assert.equal(
      (await store.stacks.list({ template: 'ec2instance', limit: 100 })).items.length,
      1,
      'only the templated one is listed',
    );

    assert.deepEqual(await store.migrations.run(), {
      'migrate-templates': 1_201,
      'migrate-drift': 1_201,
      'migrate-deleted': 0,
      'migrate-projects': 1_201,
      'migrate-webhook-projects': 0,
      'migrate-history': 0,
    });
    const listed = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await store.stacks.list({ template: 'ec2instance', limit: 100, cursor });
      for (const item of page.items) listed.add(item.id);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.equal(listed.size, 1_202);
    assert.ok(listed.has(templated));
    assert.equal(
      (await store.stacks.list({ template: 'ec2instance', status: 'failed', limit: 1_000 })).items.length,
      600,
    );
    const first = await store.stacks.get(legacy[0] ?? '');
    assert.deepEqual(first?.template, { name: 'ec2instance', version: '' });
    assert.equal(await redis.get(`${prefix}:schema`), '7');

    // A later start finds the schema version and does not scan again.
    await redis.hdel(`${prefix}:res:${legacy[1]}`, 'template');
    assert.deepEqual(await store.migrations.run(), {});
  });
});

describe('the events outbox', () => {
  test('trimming drops entries older than a day, never one pending (read, not acknowledged) or not yet read', async () => {
    const key = `${prefix}:events:outbox`;
    for (const id of ['1000-0', '2000-0', '3000-0'])
      await redis.xadd(key, id, 'type', 'x', 'subject', 's', 'sequence', '1', 'time', 't', 'data', '{}');
    await store.outbox.ensureGroup();
    const read = await store.outbox.readNew(redis, 'c1', 2, 10);
    assert.deepEqual(
      read.map((e) => e.entryId),
      ['1000-0', '2000-0'],
    );
    await store.outbox.ack(['1000-0']);
    await store.outbox.trim(Date.now());
    assert.deepEqual(
      (await store.outbox.entries()).map((e) => e.entryId),
      ['2000-0', '3000-0'],
      '2000-0 is pending, 3000-0 unread',
    );

    await store.outbox.ack(['2000-0']);
    await store.outbox.readNew(redis, 'c1', 10, 10);
    await store.outbox.ack(['3000-0']);
    const fresh = await redis.xadd(key, '*', 'type', 'x', 'subject', 's', 'sequence', '2', 'time', 't', 'data', '{}');
    await store.outbox.trim(Date.now());
    assert.deepEqual(
      (await store.outbox.entries()).map((e) => e.entryId),
      [fresh],
      'handed on more than a day ago: dropped; a new one (unread) kept',
    );
  });

  test('an entry a consumer read and never acknowledged is claimed by another once idle long enough', async () => {
    const key = `${prefix}:events:outbox`;
    await redis.xadd(key, '*', 'type', 'x', 'subject', 's', 'sequence', '1', 'time', 't', 'data', '{}');
    await store.outbox.ensureGroup();
    await store.outbox.ensureGroup();
    assert.equal((await store.outbox.readNew(redis, 'dead', 10, 10)).length, 1);
    assert.deepEqual(await store.outbox.claimStale('alive', 60_000, 10), [], 'not yet: it may still be working on it');
    const claimed = await store.outbox.claimStale('alive', 0, 10);
    assert.equal(claimed.length, 1);
    assert.equal(claimed[0]?.type, 'x');
  });
});
