// The audit log: one entry per change, written with it; one per attempt
// refused for want of a role, where no other project can read it; read by a
// project's admins and by owners, filtered and paged; kept for the retention
// period.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type request from 'supertest';
import { createToken, revokeToken } from '../core/access/managed-tokens.ts';
import type { AppError } from '../core/errors.ts';
import { Store } from '../core/store/index.ts';
import { assertProblem, type TestSystem, useSystems } from './support/harness.ts';
import { EVENTS_ENV } from './support/receiver.ts';

const [startSystem] = useSystems();

const NAMES = ['owner', 'pay-admin', 'pay-writer', 'pay-reader', 'web-admin'] as const;
type Name = (typeof NAMES)[number];
const GRANTS: Record<Name, string> = {
  owner: 'owner',
  'pay-admin': 'admin@payments',
  'pay-writer': 'write@payments',
  'pay-reader': 'read@payments',
  'web-admin': 'admin@web',
};
const secret = (name: Name) => `${name}-secret-0123456789abcdefghij`;
const ENV = { ...EVENTS_ENV, API_TOKENS: NAMES.map((name) => `${name}:${GRANTS[name]}:${secret(name)}`).join(',') };

type Entry = {
  id: string;
  at: string;
  project: string | null;
  actor: { kind: string; name: string };
  action: string;
  target: { type: string; id: string | null };
  request_id: string;
  outcome: string;
};

// A system with the projects payments and web, made by the owner.
async function twoProjects(options: { worker?: boolean; fixture?: 'changes' } = {}) {
  const system = await startSystem({ ...options, env: ENV });
  const as = (name: Name) => system.http(secret(name));
  const made: request.Response[] = [];
  for (const name of ['payments', 'web']) made.push(await as('owner').post('/api/projects').send({ name }));
  assert.deepEqual(
    made.map((res) => res.status),
    [201, 201],
  );
  return { system, as, made };
}

async function log(as: (name: Name) => ReturnType<TestSystem['http']>, name: Name, query = ''): Promise<Entry[]> {
  const res = await as(name).get(`/api/audit${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items as Entry[];
}

// The newest entry of a log is the one `res` made, as expected.
function assertRecorded(
  entries: Entry[],
  res: request.Response,
  expected: Omit<Entry, 'id' | 'at' | 'request_id'>,
): void {
  const newest = entries[0];
  assert.ok(newest, 'an entry was recorded');
  const { id, at, request_id, ...rest } = newest;
  assert.deepEqual(rest, expected);
  assert.equal(request_id, res.headers['x-request-id']);
  assert.match(id, /^a[0-9a-z]{15}$/);
  assert.ok(Math.abs(Date.parse(at) - Date.now()) < 60_000);
}

describe('the audit log', () => {
  test('each change appends exactly one entry, in its project, naming the actor, the action, the target and the request id', async () => {
    const { as, made } = await twoProjects();
    const token = (name: string) => ({ kind: 'token', name });
    assertRecorded(await log(as, 'pay-admin'), made[0] as request.Response, {
      project: 'payments',
      actor: token('owner'),
      action: 'project.create',
      target: { type: 'project', id: 'payments' },
      outcome: 'allowed',
    });
    const before = (await log(as, 'owner', '?limit=100')).length;

    const created = await as('pay-writer').post('/api/ec2instance').set('X-Request-Id', 'create-1').send({});
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.headers['x-request-id'], 'create-1');
    const stack = created.body.id as string;
    assertRecorded(await log(as, 'pay-admin'), created, {
      project: 'payments',
      actor: token('pay-writer'),
      action: 'stack.create',
      target: { type: 'stack', id: stack },
      outcome: 'allowed',
    });

    // No worker: the create stays queued, so it can be cancelled, retried and deleted.
    const cancelled = await as('pay-writer').post(`/api/jobs/${created.body.job.id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assertRecorded(await log(as, 'pay-admin'), cancelled, {
      project: 'payments',
      actor: token('pay-writer'),
      action: 'job.cancel',
      target: { type: 'job', id: created.body.job.id },
      outcome: 'allowed',
    });
    const retried = await as('pay-writer').post(`/api/ec2instance/${stack}/retry`);
    assert.equal(retried.status, 202, JSON.stringify(retried.body));
    assertRecorded(await log(as, 'pay-admin'), retried, {
      project: 'payments',
      actor: token('pay-writer'),
      action: 'stack.retry',
      target: { type: 'stack', id: stack },
      outcome: 'allowed',
    });
    const deleted = await as('pay-admin').delete(`/api/ec2instance/${stack}`);
    assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
    assertRecorded(await log(as, 'pay-admin'), deleted, {
      project: 'payments',
      actor: token('pay-admin'),
      action: 'stack.delete',
      target: { type: 'stack', id: stack },
      outcome: 'allowed',
    });

    const patched = await as('pay-admin')
      .patch('/api/projects/payments')
      .send({ quota: { max_stacks: 10 } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assertRecorded(await log(as, 'pay-admin'), patched, {
      project: 'payments',
      actor: token('pay-admin'),
      action: 'project.update',
      target: { type: 'project', id: 'payments' },
      outcome: 'allowed',
    });

    // Webhooks belong to the installation: their entries are the owners' to read.
    const hook = await as('owner').post('/api/webhooks').send({ url: 'http://127.0.0.1:9/hook' });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    assertRecorded(await log(as, 'owner'), hook, {
      project: null,
      actor: token('owner'),
      action: 'webhook.create',
      target: { type: 'webhook', id: hook.body.id },
      outcome: 'allowed',
    });
    const rotated = await as('owner').post(`/api/webhooks/${hook.body.id}/rotate-secret`);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assertRecorded(await log(as, 'owner'), rotated, {
      project: null,
      actor: token('owner'),
      action: 'webhook.rotate-secret',
      target: { type: 'webhook', id: hook.body.id },
      outcome: 'allowed',
    });
    const pinged = await as('owner').post(`/api/webhooks/${hook.body.id}/ping`);
    assert.equal(pinged.status, 202, JSON.stringify(pinged.body));
    assertRecorded(await log(as, 'owner'), pinged, {
      project: null,
      actor: token('owner'),
      action: 'webhook.ping',
      target: { type: 'webhook', id: hook.body.id },
      outcome: 'allowed',
    });
    const notAdmin = await as('pay-admin').patch(`/api/webhooks/${hook.body.id}`).send({ description: 'mine' });
    assertProblem(notAdmin, 404, 'webhook-not-found');
    assertRecorded(await log(as, 'owner'), notAdmin, {
      project: null,
      actor: token('pay-admin'),
      action: 'webhook.update',
      target: { type: 'webhook', id: hook.body.id },
      outcome: 'denied',
    });
    assert.equal((await as('owner').delete(`/api/webhooks/${hook.body.id}`)).status, 204);

    const all = await log(as, 'owner', '?limit=100');
    assert.deepEqual(
      all
        .slice(0, all.length - before)
        .map((e) => e.action)
        .reverse(),
      [
        'stack.create',
        'job.cancel',
        'stack.retry',
        'stack.delete',
        'project.update',
        'webhook.create',
        'webhook.rotate-secret',
        'webhook.ping',
        'webhook.update',
        'webhook.delete',
      ],
      'one entry per change, no more',
    );
    assert.deepEqual(
      (await log(as, 'web-admin')).map((e) => e.action),
      ['project.create'],
      "another project's log holds none of them",
    );
    assert.ok(
      !(await log(as, 'pay-admin', '?limit=100')).some((e) => e.target.type === 'webhook'),
      "the installation's entries are not a project's",
    );
  });

  test('an approval is recorded with its approver; a plan request too', async () => {
    const { system, as } = await twoProjects({ worker: true, fixture: 'changes' });
    const created = await as('pay-writer').post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 1 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const patched = await as('pay-writer')
      .patch(`/api/ec2instance/${created.body.id}`)
      .send({ inputs: { node_count: 2 } });
    assert.equal(patched.status, 202, JSON.stringify(patched.body));
    assertRecorded(await log(as, 'pay-admin'), patched, {
      project: 'payments',
      actor: { kind: 'token', name: 'pay-writer' },
      action: 'stack.update',
      target: { type: 'stack', id: created.body.id },
      outcome: 'allowed',
    });
    const planned = await system.waitForJobRecord(patched.body.job.id, (job) => job.status === 'planned');
    const approved = await as('pay-admin').post(`/api/jobs/${planned.id}/apply`);
    assert.equal(approved.status, 202, JSON.stringify(approved.body));
    assert.equal(approved.body.approved_by, 'pay-admin');
    assertRecorded(await log(as, 'pay-admin'), approved, {
      project: 'payments',
      actor: { kind: 'token', name: 'pay-admin' },
      action: 'job.apply',
      target: { type: 'job', id: planned.id },
      outcome: 'allowed',
    });
    await system.waitForJob(planned.id);
    const plan = await as('pay-writer').post(`/api/ec2instance/${created.body.id}/plan`);
    assert.equal(plan.status, 202, JSON.stringify(plan.body));
    assertRecorded(await log(as, 'pay-admin'), plan, {
      project: 'payments',
      actor: { kind: 'token', name: 'pay-writer' },
      action: 'stack.plan',
      target: { type: 'stack', id: created.body.id },
      outcome: 'allowed',
    });
    await system.waitForJob(plan.body.id);
  });

  test("a token's creation and revocation are recorded in its project, and only when made", async () => {
    const { system, as } = await twoProjects();
    const audit = { actor: { kind: 'token' as const, name: 'pay-admin' }, requestId: 'tokens-1' };
    const admin = {
      kind: 'token' as const,
      name: 'pay-admin',
      key: 'pay-admin',
      owner: false,
      grants: new Map([['payments', 'admin' as const]]),
    };
    const made = await createToken(system.store.tokens, admin, 'payments', { name: 'ci', role: 'write' }, audit);
    await assert.rejects(
      createToken(system.store.tokens, admin, 'payments', { name: 'ci', role: 'read' }, audit),
      (e: AppError) => e.code === 'token-name-taken',
    );
    await assert.rejects(
      revokeToken(system.store.tokens, 'web', made.id, audit),
      (e: AppError) => e.code === 'token-not-found',
    );
    await revokeToken(system.store.tokens, 'payments', made.id, audit);
    const entries = (await log(as, 'pay-admin')).slice(0, 3);
    assert.deepEqual(
      entries.map((e) => [e.action, e.target, e.request_id, e.project]),
      [
        ['token.revoke', { type: 'token', id: made.id }, 'tokens-1', 'payments'],
        ['token.create', { type: 'token', id: made.id }, 'tokens-1', 'payments'],
        ['project.create', { type: 'project', id: 'payments' }, entries[2]?.request_id, 'payments'],
      ],
    );
    assert.deepEqual(
      (await log(as, 'web-admin')).map((e) => e.action),
      ['project.create'],
    );
  });

  test('a refused change appends nothing', async () => {
    const { as } = await twoProjects();
    assert.equal(
      (
        await as('owner')
          .patch('/api/projects/web')
          .send({ quota: { max_stacks: 0 } })
      ).status,
      200,
    );
    const before = await log(as, 'owner', '?limit=100');
    assertProblem(await as('web-admin').post('/api/ec2instance').send({}), 409, 'quota-exceeded');
    const stack = (await as('pay-writer').post('/api/ec2instance').send({})).body.id as string;
    const after = await log(as, 'owner', '?limit=100');
    assert.equal(after.length, before.length + 1, 'only the create that was made');
    assertProblem(await as('pay-writer').post(`/api/ec2instance/${stack}/retry`), 409, 'invalid-state');
    assertProblem(await as('pay-writer').post(`/api/ec2instance/${stack}/plan`), 409, 'invalid-state');
    assertProblem(await as('owner').post('/api/projects').send({ name: 'payments' }), 409, 'project-exists');
    assertProblem(await as('owner').delete('/api/projects/payments'), 409, 'project-not-empty');
    assert.deepEqual(await log(as, 'owner', '?limit=100'), after);
  });

  test("a refusal is recorded as denied: a role too low in the project's log, another project's object only where owners read", async () => {
    const { as } = await twoProjects();
    const stack = (await as('pay-writer').post('/api/ec2instance').send({})).body.id as string;

    const tooLow = await as('pay-reader').delete(`/api/ec2instance/${stack}`);
    assertProblem(tooLow, 403, 'insufficient-role');
    assertRecorded(await log(as, 'pay-admin'), tooLow, {
      project: 'payments',
      actor: { kind: 'token', name: 'pay-reader' },
      action: 'stack.delete',
      target: { type: 'stack', id: stack },
      outcome: 'denied',
    });

    const payments = await log(as, 'pay-admin', '?limit=100');
    const web = await log(as, 'web-admin', '?limit=100');
    const elsewhere = await as('web-admin').delete(`/api/ec2instance/${stack}`);
    const unknown = await as('web-admin').delete('/api/ec2instance/0123456789abcdef');
    assertProblem(elsewhere, 404, 'resource-not-found');
    assertProblem(unknown, 404, 'resource-not-found');
    assert.deepEqual(
      await log(as, 'pay-admin', '?limit=100'),
      payments,
      "the other project's log does not learn of it",
    );
    assert.deepEqual(
      await log(as, 'web-admin', '?limit=100'),
      web,
      "nor does the caller's, which would learn that the id exists",
    );
    assertRecorded(await log(as, 'owner'), elsewhere, {
      project: null,
      actor: { kind: 'token', name: 'web-admin' },
      action: 'stack.delete',
      target: { type: 'stack', id: stack },
      outcome: 'denied',
    });

    const createElsewhere = await as('web-admin').post('/api/ec2instance?project=payments').send({});
    assertProblem(createElsewhere, 404, 'project-not-found');
    assertRecorded(await log(as, 'owner'), createElsewhere, {
      project: null,
      actor: { kind: 'token', name: 'web-admin' },
      action: 'stack.create',
      target: { type: 'stack', id: null },
      outcome: 'denied',
    });
    const notOwner = await as('pay-admin').post('/api/projects').send({ name: 'mine' });
    assertProblem(notOwner, 403, 'insufficient-role');
    assertRecorded(await log(as, 'owner'), notOwner, {
      project: null,
      actor: { kind: 'token', name: 'pay-admin' },
      action: 'project.create',
      target: { type: 'project', id: null },
      outcome: 'denied',
    });
    const before = await log(as, 'owner', '?limit=100');
    assertProblem(await as('pay-reader').get(`/api/jobs/0123456789abcdef`), 404, 'job-not-found');
    assert.deepEqual(await log(as, 'owner', '?limit=100'), before, 'reads are not recorded, nor unknown ids');
  });

  test("an admin reads only its own project's log: another project's is the 404 of one that does not exist", async () => {
    const { as } = await twoProjects();
    const other = await as('web-admin').get('/api/audit?project=payments');
    const none = await as('web-admin').get('/api/audit?project=nowhere');
    assertProblem(other, 404, 'project-not-found');
    assertProblem(none, 404, 'project-not-found');
    assertProblem(await as('owner').get('/api/audit?project=nowhere'), 404, 'project-not-found');
    assertProblem(await as('pay-reader').get('/api/audit?project=payments'), 403, 'insufficient-role');
    assertProblem(await as('pay-writer').get('/api/audit'), 403, 'insufficient-role');
    assert.deepEqual(
      (await log(as, 'web-admin')).map((e) => e.project),
      ['web'],
      'without ?project=, the one project it administers',
    );
    assert.deepEqual(
      (await log(as, 'owner', '?project=web')).map((e) => e.project),
      ['web'],
    );
    assertProblem(await as('owner').get('/api/audit?cursor=bm9wZQ'), 400, 'invalid-cursor');
    assertProblem(await as('owner').get('/api/audit?action=stack.explode'), 400, 'validation-failed');
  });

  test('entries filter by actor and action, and pages follow the cursor, filtered or not', async () => {
    const { as } = await twoProjects();
    for (let i = 0; i < 4; i += 1) assert.equal((await as('pay-writer').post('/api/ec2instance').send({})).status, 202);
    for (let i = 0; i < 3; i += 1)
      assert.equal(
        (
          await as('pay-admin')
            .patch('/api/projects/payments')
            .send({ description: `v${i}` })
        ).status,
        200,
      );
    const all = await log(as, 'pay-admin', '?limit=100');
    assert.deepEqual(
      all.map((e) => e.action),
      [
        'project.update',
        'project.update',
        'project.update',
        'stack.create',
        'stack.create',
        'stack.create',
        'stack.create',
        'project.create',
      ],
    );
    assert.ok(
      all.every((e, i) => i === 0 || (all[i - 1] as Entry).at >= e.at),
      'newest first',
    );

    async function walk(query: string, limit: number): Promise<Entry[]> {
      const seen: Entry[] = [];
      let cursor: string | null = null;
      do {
        const res = await as('pay-admin').get(`/api/audit?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.ok(res.body.items.length <= limit);
        seen.push(...res.body.items);
        cursor = res.body.next_cursor;
      } while (cursor);
      return seen;
    }
    assert.deepEqual(await walk('', 3), all);
    assert.deepEqual(
      await walk('&actor=pay-writer', 3),
      all.filter((e) => e.actor.name === 'pay-writer'),
    );
    assert.deepEqual(
      await walk('&action=project.update', 2),
      all.filter((e) => e.action === 'project.update'),
    );
    assert.deepEqual(await walk('&actor=pay-admin&action=stack.create', 5), []);
    assert.deepEqual(await walk('&actor=owner', 1), all.slice(-1));
  });

  test('entries older than the retention period are trimmed as new ones arrive, and a stream is set to expire after it', async () => {
    const { system, as } = await twoProjects();
    assert.equal((await as('pay-writer').post('/api/ec2instance').send({})).status, 202);
    const prefix = system.config.redisPrefix;
    assert.ok(
      (await system.redis.pttl(`${prefix}:prj:payments:audit`)) > 89 * 86_400_000,
      'kept AUDIT_RETENTION_DAYS, by default 90',
    );
    const later = new Store(system.redis, prefix, 3600, { retentionDays: 90, now: () => Date.now() + 91 * 86_400_000 });
    const note = {
      actor: { kind: 'token' as const, name: 'pay-admin' },
      requestId: 'later',
      action: 'project.update' as const,
    };
    // A change's script trims, never past the entry it adds.
    assert.ok(await later.projects.update('payments', { description: 'later' }, note));
    assert.deepEqual(
      (await log(as, 'pay-admin', '?limit=100')).map((e) => e.request_id),
      ['later'],
    );
    assert.deepEqual(
      (await log(as, 'owner', '?limit=100')).map((e) => e.request_id),
      ['later'],
      "the installation's stream is trimmed too",
    );
    await later.audit.denied({ ...note, action: 'stack.delete' }, 'web', { type: 'stack', id: '0123456789abcdef' });
    assert.deepEqual(
      (await log(as, 'web-admin', '?limit=100')).map((e) => e.outcome),
      ['denied'],
    );
    // A script trims as it appends, never past its own entry (the clock is 200 days on).
    const muchLater = new Store(system.redis, prefix, 3600, {
      retentionDays: 90,
      now: () => Date.now() + 200 * 86_400_000,
    });
    assert.equal(await muchLater.projects.create('late', '', {}, { ...note, action: 'project.create' }), true);
    assert.deepEqual(
      (await log(as, 'owner', '?limit=100')).map((e) => e.action),
      ['project.create'],
    );
  });
});
