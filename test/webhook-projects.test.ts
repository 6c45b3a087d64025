// Webhooks belong to a project: its admins alone register, see and change
// them (another project's admin is told what an unknown id gets), they
// receive that project's events only, a project has a cap of its own, and
// webhooks from before projects become every-project ones.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type request from 'supertest';
import { ROLES } from '../core/access/roles.ts';
import { newWebhookId } from '../core/ids.ts';
import { assertProblem, type TestSystem, useSystems } from './support/harness.ts';
import { EVENTS_ENV, Receiver } from './support/receiver.ts';

const [startSystem] = useSystems();

const secret = (name: string) => `${name}-secret-0123456789abcdefghijklmn`;
const PROJECTS = ['alpha', 'beta'] as const;
const API_TOKENS = [
  'root:owner',
  'both:admin@alpha+admin@beta',
  ...PROJECTS.flatMap((p) => ROLES.map((r) => `${p}-${r}:${r}@${p}`)),
]
  .map((entry) => `${entry}:${secret(entry.split(':')[0] as string)}`)
  .join(',');
const NOWHERE = 'http://127.0.0.1:9/hook';

async function twoProjects(
  options: { worker?: boolean; env?: Record<string, string> } = {},
): Promise<{ system: TestSystem; as: (token: string) => ReturnType<TestSystem['http']> }> {
  const system = await startSystem({
    worker: options.worker ?? false,
    env: { ...EVENTS_ENV, API_TOKENS, ...options.env },
  });
  const as = (token: string) => system.http(secret(token));
  for (const project of PROJECTS)
    assert.equal((await as('root').post('/api/projects').send({ name: project })).status, 201);
  return { system, as };
}

async function register(
  as: ReturnType<TestSystem['http']>,
  url: string,
  project?: string,
): Promise<{ id: string; project: string | null }> {
  const res = await as.post(`/api/webhooks${project ? `?project=${project}` : ''}`).send({ url });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function receiver(t: { after(fn: () => Promise<void>): void }): Promise<Receiver> {
  const r = await new Receiver().start();
  t.after(() => r.stop());
  return r;
}

// Every route on one webhook (and one of its deliveries).
const ROUTES: Array<[string, (h: ReturnType<TestSystem['http']>, webhook: string, delivery: string) => request.Test]> =
  [
    ['GET', (h, w) => h.get(`/api/webhooks/${w}`)],
    ['PATCH', (h, w) => h.patch(`/api/webhooks/${w}`).send({ description: 'taken' })],
    ['ping', (h, w) => h.post(`/api/webhooks/${w}/ping`)],
    ['rotate-secret', (h, w) => h.post(`/api/webhooks/${w}/rotate-secret`)],
    ['deliveries', (h, w) => h.get(`/api/webhooks/${w}/deliveries`)],
    ['a delivery', (h, w, d) => h.get(`/api/webhooks/${w}/deliveries/${d}`)],
    ['redeliver', (h, w, d) => h.post(`/api/webhooks/${w}/deliveries/${d}/redeliver`)],
    ['DELETE', (h, w) => h.delete(`/api/webhooks/${w}`)],
  ];

// A problem's body without its request id, the id asked for put back as `shown`.
function bodyOf(res: request.Response, asked: string, shown: string): Record<string, unknown> {
  const { request_id: _, ...body } = res.body as Record<string, unknown>;
  return JSON.parse(JSON.stringify(body).replaceAll(asked, shown)) as Record<string, unknown>;
}

describe("a project's webhooks", () => {
  test("an admin of alpha registers one in alpha; alpha-write is 403; beta's admin gets the 404 of an unknown id on every webhook route and does not see it listed; an admin of two projects must name one, and pages through both", async () => {
    const { as } = await twoProjects();
    const named = await register(as('alpha-admin'), NOWHERE, 'alpha');
    assert.equal(named.project, 'alpha');
    assert.equal(
      (await register(as('alpha-admin'), NOWHERE)).project,
      'alpha',
      'the one project it is an admin of, unnamed',
    );
    const refused = await as('alpha-write').post('/api/webhooks?project=alpha').send({ url: NOWHERE });
    assertProblem(refused, 403, 'insufficient-role');
    assert.match(refused.body.detail, /needs the admin role in project "alpha"/);
    assertProblem(await as('alpha-write').get(`/api/webhooks/${named.id}`), 403, 'insufficient-role');
    assertProblem(
      await as('beta-admin').post('/api/webhooks?project=alpha').send({ url: NOWHERE }),
      404,
      'project-not-found',
    );
    assertProblem(
      await as('root').post('/api/webhooks?project=gamma').send({ url: NOWHERE }),
      404,
      'project-not-found',
    );
    const ping = await as('alpha-admin').post(`/api/webhooks/${named.id}/ping`);
    assert.equal(ping.status, 202, JSON.stringify(ping.body));

    const unknown = newWebhookId();
    for (const [what, call] of ROUTES) {
      const missing = await call(as('beta-admin'), unknown, ping.body.id);
      assertProblem(missing, 404, 'webhook-not-found');
      for (const role of ROLES) {
        const res = await call(as(`beta-${role}`), named.id, ping.body.id);
        assert.equal(res.status, 404, `${what}, beta-${role}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(
          bodyOf(res, named.id, unknown),
          bodyOf(missing, unknown, unknown),
          `${what}: beta-${role} learns nothing of alpha's webhook`,
        );
      }
    }
    const ids = async (token: string, query = '') =>
      ((await as(token).get(`/api/webhooks${query}`)).body.items as Array<{ id: string }>).map((w) => w.id);
    assert.deepEqual(await ids('beta-admin'), []);
    assert.equal((await ids('alpha-admin')).length, 2);
    assert.ok((await ids('root')).includes(named.id));
    assert.ok((await ids('root', '?project=alpha')).includes(named.id));
    assert.deepEqual(await ids('root', '?project=beta'), []);
    assertProblem(await as('beta-admin').get('/api/webhooks?project=alpha'), 404, 'project-not-found');
    assertProblem(await as('alpha-write').get('/api/webhooks'), 403, 'insufficient-role');

    const alphaLog = (await as('alpha-admin').get('/api/audit?project=alpha&limit=100')).body.items as Array<{
      action: string;
      project: string;
      target: { id: string };
    }>;
    assert.ok(
      alphaLog.some((e) => e.action === 'webhook.create' && e.target.id === named.id && e.project === 'alpha'),
      "its creation is in alpha's log",
    );
    assert.ok(
      alphaLog.some((e) => e.action === 'webhook.ping' && e.target.id === named.id),
      "its ping is in alpha's log",
    );
    const betaLog = (await as('beta-admin').get('/api/audit?project=beta&limit=100')).body.items as Array<{
      target: { type: string };
    }>;
    assert.ok(!betaLog.some((e) => e.target.type === 'webhook'), "beta's log tells nothing of it");
    assertProblem(await as('both').post('/api/webhooks').send({ url: NOWHERE }), 400, 'project-required');
    const inBeta = await register(as('both'), NOWHERE, 'beta');
    const first = await as('both').get('/api/webhooks?limit=2');
    const rest = await as('both').get(`/api/webhooks?limit=2&cursor=${first.body.next_cursor}`);
    assert.deepEqual(
      [...first.body.items, ...rest.body.items].map((w: { id: string }) => w.id),
      [...(await ids('alpha-admin')), inBeta.id],
      'an admin of two projects pages through both, oldest first',
    );
    assert.equal((await as('alpha-admin').delete(`/api/webhooks/${named.id}`)).status, 204);
  });

  test("alpha's webhook receives alpha's stack events and none of beta's; an owner's every-project webhook receives both", async (t) => {
    const { as } = await twoProjects({ worker: true });
    const alphaReceiver = await receiver(t);
    const everyReceiver = await receiver(t);
    const alpha = await register(as('alpha-admin'), alphaReceiver.url, 'alpha');
    const every = await register(as('root'), everyReceiver.url);
    assert.equal(every.project, null);
    const stacks = new Map<string, string>();
    for (const project of PROJECTS) {
      const made = await as('root').post(`/api/ec2instance?project=${project}`).set('Prefer', 'wait=60').send({});
      assert.equal(made.status, 201, JSON.stringify(made.body));
      stacks.set(project, made.body.id);
    }
    const ready = (r: Receiver, project: string) =>
      r.events().some((e) => e.type === 'io.tfcompute.stack.ready' && e.subject === stacks.get(project));
    await everyReceiver.waitFor(
      () => ready(everyReceiver, 'alpha') && ready(everyReceiver, 'beta'),
      "both stacks' stack.ready",
    );
    await alphaReceiver.waitFor(() => ready(alphaReceiver, 'alpha'), "alpha's stack.ready");
    // Each event's deliveries are recorded together, before any is sent: by
    // now every delivery of beta's events to any webhook is recorded.
    const recorded = (await as('alpha-admin').get(`/api/webhooks/${alpha.id}/deliveries?limit=100`)).body
      .items as Array<{ event: { id: string } }>;
    assert.ok(recorded.length >= 5, JSON.stringify(recorded));
    const subjects = new Set(
      [...alphaReceiver.events(), ...everyReceiver.events()]
        .filter((e) => recorded.some((d) => d.event.id === e.id))
        .map((e) => e.subject),
    );
    assert.deepEqual([...subjects], [stacks.get('alpha')], "alpha's webhook got none of beta's events");
    assert.ok(alphaReceiver.events().every((e) => e.subject === stacks.get('alpha')));
    assert.ok(everyReceiver.events().some((e) => (e.data.stack as { project: string }).project === 'beta'));
  });

  test('a project has a cap of its own (WEBHOOK_LIMIT_PER_PROJECT), ten racing for its last place, one wins; the installation cap still holds', async () => {
    const { as } = await twoProjects({ env: { WEBHOOK_LIMIT_PER_PROJECT: '2', WEBHOOK_LIMIT: '4' } });
    await register(as('alpha-admin'), NOWHERE);
    await register(as('root'), NOWHERE);
    const racing = await Promise.all(
      Array.from({ length: 10 }, () => as('alpha-admin').post('/api/webhooks').send({ url: NOWHERE })),
    );
    assert.deepEqual(racing.map((r) => r.status).sort(), [201, ...Array(9).fill(409)]);
    const full = racing.find((r) => r.status === 409) as request.Response;
    assertProblem(full, 409, 'webhook-limit-reached');
    assert.match(full.body.detail, /project "alpha" has 2 webhooks.*WEBHOOK_LIMIT_PER_PROJECT=2/);
    await register(as('beta-admin'), NOWHERE);
    const total = await as('beta-admin').post('/api/webhooks').send({ url: NOWHERE });
    assertProblem(total, 409, 'webhook-limit-reached');
    assert.match(total.body.detail, /WEBHOOK_LIMIT=4/);
    assert.equal(
      (await as('root').get('/api/webhooks?limit=100')).body.items.length,
      4,
      'nothing stored beyond the caps',
    );
  });

  test('a project is not deleted while it has a webhook', async () => {
    const { system, as } = await twoProjects();
    const webhook = await register(as('root'), NOWHERE, 'beta');
    const refused = await as('root').delete('/api/projects/beta');
    assertProblem(refused, 409, 'project-not-empty');
    assert.match(refused.body.detail, /0 live stacks and 1 webhooks/);
    assert.equal((await as('beta-admin').delete(`/api/webhooks/${webhook.id}`)).status, 204);
    assert.equal((await as('root').delete('/api/projects/beta')).status, 204);
    assert.equal(await system.redis.exists(`${system.config.redisPrefix}:prj:beta:wh:index`), 0);
  });
});

describe('the webhook projects migration', () => {
  test('webhooks stored before projects become every-project webhooks: their makers still see them, no project admin does, nothing lost', async () => {
    const { system, as } = await twoProjects();
    const legacy = [await register(as('root'), NOWHERE), await register(as('root'), NOWHERE)];
    const alpha = await register(as('alpha-admin'), NOWHERE);
    // As the store left them before: no project field, and schema version 5.
    for (const { id } of legacy) await system.redis.hdel(`${system.config.redisPrefix}:wh:${id}`, 'project');
    await system.redis.set(`${system.config.redisPrefix}:schema`, '5');

    assert.deepEqual(await system.store.migrations.run(), { 'migrate-webhook-projects': 2, 'migrate-history': 0 });
    for (const { id } of legacy) {
      const shown = await as('root').get(`/api/webhooks/${id}`);
      assert.equal(shown.status, 200, JSON.stringify(shown.body));
      assert.equal(shown.body.project, null);
      assert.equal(await system.redis.hget(`${system.config.redisPrefix}:wh:${id}`, 'project'), '*');
      assertProblem(await as('alpha-admin').get(`/api/webhooks/${id}`), 404, 'webhook-not-found');
    }
    assert.equal(
      (await as('alpha-admin').get(`/api/webhooks/${alpha.id}`)).body.project,
      'alpha',
      'a webhook with a project keeps it',
    );
    assert.equal((await as('root').get('/api/webhooks')).body.items.length, 3);
    assert.equal(await system.redis.get(`${system.config.redisPrefix}:schema`), '7');
    assert.deepEqual(await system.store.migrations.run(), {}, 'a later start does not scan again');
  });
});
