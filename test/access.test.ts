// Each team sees and changes only its own stacks: every route against every
// role of two projects, and every access across projects the same 404 as an
// id that does not exist. Tokens made through the API work at once on every
// API process, and stop at once when revoked.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { startApi } from '../api/server.ts';
import { allows, ROLES, type Role } from '../core/access/roles.ts';
import { loadConfig } from '../core/config.ts';
import { newJobId, newPolicyId, newStackId, newWebhookId } from '../core/ids.ts';
import { assertProblem, type TestSystem, useSystems } from './support/harness.ts';
import { EVENTS_ENV } from './support/receiver.ts';
import { captureLogs } from './support/log-capture.ts';
import { AUDIENCE, Issuer } from './support/oidc-issuer.ts';

const [startSystem] = useSystems();

const secret = (name: string) => `${name}-secret-0123456789abcdefghijklmn`;
const PROJECTS = ['alpha', 'beta'] as const;
const API_TOKENS = ['root:owner', ...PROJECTS.flatMap((p) => ROLES.map((r) => `${p}-${r}:${r}@${p}`))]
  .map((entry) => `${entry}:${secret(entry.split(':')[0] as string)}`)
  .join(',');

type Target = { id: string; job: string; project: string; webhook: string; delivery: string; policy: string };
type Row = {
  what: string;
  needed: Role;
  // The answer for a caller with no role in the target's project, as for an unknown id.
  notFound: string;
  call(http: ReturnType<TestSystem['http']>, target: Target): request.Test;
};

const ROWS: Row[] = [
  {
    what: 'GET a stack',
    needed: 'read',
    notFound: 'resource-not-found',
    call: (h, t) => h.get(`/api/ec2instance/${t.id}`),
  },
  {
    what: "list a stack's jobs",
    needed: 'read',
    notFound: 'resource-not-found',
    call: (h, t) => h.get(`/api/ec2instance/${t.id}/jobs`),
  },
  { what: 'GET a job', needed: 'read', notFound: 'job-not-found', call: (h, t) => h.get(`/api/jobs/${t.job}`) },
  {
    what: "GET a job's log",
    needed: 'read',
    notFound: 'job-not-found',
    call: (h, t) => h.get(`/api/jobs/${t.job}/log`),
  },
  {
    what: "follow a job's log (SSE)",
    needed: 'read',
    notFound: 'job-not-found',
    call: (h, t) => h.get(`/api/jobs/${t.job}/log`).set('Accept', 'text/event-stream'),
  },
  {
    what: 'GET the project',
    needed: 'read',
    notFound: 'project-not-found',
    call: (h, t) => h.get(`/api/projects/${t.project}`),
  },
  {
    what: 'plan a stack',
    needed: 'plan',
    notFound: 'resource-not-found',
    call: (h, t) => h.post(`/api/ec2instance/${t.id}/plan`),
  },
  {
    what: 'PATCH a stack (plan only)',
    needed: 'plan',
    notFound: 'resource-not-found',
    call: (h, t) => h.patch(`/api/ec2instance/${t.id}`).send({ inputs: { node_count: 9_999 } }),
  },
  {
    what: 'PATCH a stack with auto_apply',
    needed: 'write',
    notFound: 'resource-not-found',
    call: (h, t) => h.patch(`/api/ec2instance/${t.id}`).send({ inputs: { node_count: 9_999 }, auto_apply: true }),
  },
  {
    what: 'retry a stack',
    needed: 'write',
    notFound: 'resource-not-found',
    call: (h, t) => h.post(`/api/ec2instance/${t.id}/retry`),
  },
  {
    what: 'cancel a job',
    needed: 'write',
    notFound: 'job-not-found',
    call: (h, t) => h.post(`/api/jobs/${t.job}/cancel`),
  },
  {
    what: 'approve a plan',
    needed: 'write',
    notFound: 'job-not-found',
    call: (h, t) => h.post(`/api/jobs/${t.job}/apply`),
  },
  {
    what: 'discard a plan',
    needed: 'write',
    notFound: 'job-not-found',
    call: (h, t) => h.post(`/api/jobs/${t.job}/discard`),
  },
  {
    what: 'create a stack in the project',
    needed: 'write',
    notFound: 'project-not-found',
    call: (h, t) => h.post(`/api/ec2instance?project=${t.project}`).send({ node_count: 9_999 }),
  },
  {
    what: 'change the project',
    needed: 'admin',
    notFound: 'project-not-found',
    call: (h, t) => h.patch(`/api/projects/${t.project}`).send({ description: 'x'.repeat(501) }),
  },
  {
    what: "list the project's tokens",
    needed: 'admin',
    notFound: 'project-not-found',
    call: (h, t) => h.get(`/api/projects/${t.project}/tokens`),
  },
  {
    what: 'make a token',
    needed: 'admin',
    notFound: 'project-not-found',
    call: (h, t) => h.post(`/api/projects/${t.project}/tokens`).send({ name: '?' }),
  },
  {
    what: 'register a webhook in the project',
    needed: 'admin',
    notFound: 'project-not-found',
    call: (h, t) => h.post(`/api/webhooks?project=${t.project}`).send({ url: 'not a url' }),
  },
  {
    what: 'GET a webhook',
    needed: 'admin',
    notFound: 'webhook-not-found',
    call: (h, t) => h.get(`/api/webhooks/${t.webhook}`),
  },
  {
    what: 'PATCH a webhook',
    needed: 'admin',
    notFound: 'webhook-not-found',
    call: (h, t) => h.patch(`/api/webhooks/${t.webhook}`).send({ description: 'x'.repeat(501) }),
  },
  {
    what: 'ping a webhook',
    needed: 'admin',
    notFound: 'webhook-not-found',
    call: (h, t) => h.post(`/api/webhooks/${t.webhook}/ping`),
  },
  {
    what: "rotate a webhook's secret",
    needed: 'admin',
    notFound: 'webhook-not-found',
    call: (h, t) => h.post(`/api/webhooks/${t.webhook}/rotate-secret`),
  },
  {
    what: "list a webhook's deliveries",
    needed: 'admin',
    notFound: 'webhook-not-found',
    call: (h, t) => h.get(`/api/webhooks/${t.webhook}/deliveries`),
  },
  {
    what: 'GET a delivery',
    needed: 'admin',
    notFound: 'webhook-not-found',
    call: (h, t) => h.get(`/api/webhooks/${t.webhook}/deliveries/${t.delivery}`),
  },
  {
    what: 'redeliver a delivery',
    needed: 'admin',
    notFound: 'webhook-not-found',
    call: (h, t) => h.post(`/api/webhooks/${t.webhook}/deliveries/${t.delivery}/redeliver`),
  },
  {
    what: 'DELETE a webhook',
    needed: 'admin',
    notFound: 'webhook-not-found',
    call: (h, t) => h.delete(`/api/webhooks/${t.webhook}`),
  },
  {
    what: 'create a policy in the project',
    needed: 'admin',
    notFound: 'project-not-found',
    call: (h, t) =>
      h
        .post('/api/policies')
        .send({ name: 'p', enforcement: 'advisory', project: t.project, rule: 'plan.add <= "x"', message: 'm' }),
  },
  {
    what: "list the project's policies",
    needed: 'read',
    notFound: 'project-not-found',
    call: (h, t) => h.get(`/api/policies?project=${t.project}`),
  },
  {
    what: 'GET a policy',
    needed: 'read',
    notFound: 'policy-not-found',
    call: (h, t) => h.get(`/api/policies/${t.policy}`),
  },
  {
    what: 'PATCH a policy',
    needed: 'admin',
    notFound: 'policy-not-found',
    call: (h, t) => h.patch(`/api/policies/${t.policy}`).send({ rule: '1 +' }),
  },
  {
    what: "override a job's policies",
    needed: 'admin',
    notFound: 'job-not-found',
    call: (h, t) => h.post(`/api/jobs/${t.job}/override`).send({ reason: 'an override' }),
  },
  {
    what: 'DELETE a policy',
    needed: 'admin',
    notFound: 'policy-not-found',
    call: (h, t) => h.delete(`/api/policies/${t.policy}`),
  },
  {
    what: 'DELETE a stack',
    needed: 'write',
    notFound: 'resource-not-found',
    call: (h, t) => h.delete(`/api/ec2instance/${t.id}`),
  },
];

// What a 404's body names, by its code (others name the stack's id).
const NAMED_BY: Record<string, 'project' | 'job' | 'webhook' | 'policy'> = {
  'project-not-found': 'project',
  'job-not-found': 'job',
  'webhook-not-found': 'webhook',
  'policy-not-found': 'policy',
};

// A problem's body, with the id asked for put back as the one named.
function bodyOf(res: request.Response, asked: string, shown: string): Record<string, unknown> {
  const { request_id: _, ...body } = res.body as Record<string, unknown>;
  return JSON.parse(JSON.stringify(body).replaceAll(asked, shown)) as Record<string, unknown>;
}

describe('every route against every role of two projects', () => {
  // The projects and their stacks, made by an owner; each test makes its own system.
  async function twoProjects(): Promise<{ system: TestSystem; alpha: Target }> {
    const system = await startSystem({ worker: true, env: { ...EVENTS_ENV, API_TOKENS } });
    const root = system.http(secret('root'));
    const stacks = new Map<string, Target>();
    for (const project of PROJECTS) {
      assert.equal((await root.post('/api/projects').send({ name: project })).status, 201);
      const made = await root.post(`/api/ec2instance?project=${project}`).set('Prefer', 'wait=60').send({});
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const webhook = await root.post(`/api/webhooks?project=${project}`).send({ url: 'http://127.0.0.1:9/hook' });
      assert.equal(webhook.status, 201, JSON.stringify(webhook.body));
      const ping = await root.post(`/api/webhooks/${webhook.body.id}/ping`);
      const policy = await root
        .post('/api/policies')
        .send({ name: 'guard', enforcement: 'advisory', project, actions: ['plan'], rule: 'true', message: 'never' });
      assert.equal(policy.status, 201, JSON.stringify(policy.body));
      stacks.set(project, {
        id: made.body.id,
        job: made.body.job.id,
        project,
        webhook: webhook.body.id,
        delivery: ping.body.id,
        policy: policy.body.id,
      });
    }
    return { system, alpha: stacks.get('alpha') as Target };
  }

  test('each route: its role or above may; below is 403 naming the role; any role of another project gets exactly the 404 of an unknown id', async () => {
    const { system, alpha } = await twoProjects();
    for (const row of ROWS) {
      for (const role of ROLES) {
        const res = await row.call(system.http(secret(`alpha-${role}`)), alpha);
        const who = `${row.what}, alpha-${role}`;
        if (allows(role, row.needed)) {
          assert.ok(![401, 403, 404].includes(res.status), `${who}: ${res.status} ${JSON.stringify(res.body)}`);
        } else {
          assert.equal(res.status, 403, `${who}: ${JSON.stringify(res.body)}`);
          assertProblem(res, 403, 'insufficient-role');
          assert.match(res.body.detail, new RegExp(`needs the ${row.needed} role in project "alpha"`), who);
        }
      }
      const unknown: Target = {
        id: newStackId(),
        job: newJobId(),
        project: 'nowhere',
        webhook: newWebhookId(),
        delivery: alpha.delivery,
        policy: newPolicyId(),
      };
      const missing = await row.call(system.http(secret('beta-admin')), unknown);
      assertProblem(missing, 404, row.notFound);
      const field = NAMED_BY[row.notFound] ?? 'id';
      const [asked, shown] = [alpha[field], unknown[field]];
      for (const role of ROLES) {
        const res = await row.call(system.http(secret(`beta-${role}`)), alpha);
        assert.equal(res.status, 404, `${row.what}, beta-${role}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(
          bodyOf(res, asked, shown),
          bodyOf(missing, shown, shown),
          `${row.what}: beta-${role} learns nothing of alpha`,
        );
      }
    }
  });

  test('lists show only what the caller can read; ?project= of another is the 404 of an unknown project; a caller with one project creates there without naming it', async () => {
    const { system } = await twoProjects();
    const projectsOf = async (token: string) =>
      [
        ...new Set(
          ((await system.http(secret(token)).get('/api/ec2instance')).body.items as Array<{ project: string }>).map(
            (s) => s.project,
          ),
        ),
      ].sort();
    assert.deepEqual(await projectsOf('alpha-read'), ['alpha']);
    assert.deepEqual(await projectsOf('beta-admin'), ['beta']);
    assert.deepEqual(await projectsOf('root'), ['alpha', 'beta']);
    assertProblem(
      await system.http(secret('alpha-admin')).get('/api/ec2instance?project=beta'),
      404,
      'project-not-found',
    );
    const projects = (await system.http(secret('alpha-read')).get('/api/projects')).body.items.map(
      (p: { name: string }) => p.name,
    );
    assert.deepEqual(projects, ['alpha'], 'the projects list shows only those the caller has a role in');
    assertProblem(
      await system.http(secret('alpha-admin')).post('/api/projects').send({ name: 'gamma' }),
      403,
      'insufficient-role',
    );

    const made = await system.http(secret('beta-write')).post('/api/ec2instance').send({});
    assert.equal(made.status, 202, JSON.stringify(made.body));
    assert.equal(made.body.project, 'beta');
    assert.equal((await system.http(secret('beta-read')).get(`/api/jobs/${made.body.job.id}`)).body.project, 'beta');
  });
});

describe('tokens made through the API', () => {
  test('an admin makes one for CI; it works on every API process, is revoked on one and refused by the other at once, and its secret is shown once and kept nowhere', async (t) => {
    const system = await startSystem({ env: { API_TOKENS } });
    // The second API process logs everything, to show the secret is not in its logs.
    const captured = captureLogs();
    const other = await startApi(loadConfig({ ...system.env, LOG_LEVEL: 'trace' }), captured.logger());
    t.after(() => other.stop());
    const second = (token: string) =>
      request.agent(`http://127.0.0.1:${other.port}`).set('Authorization', `Bearer ${token}`);
    await system.http(secret('root')).post('/api/projects').send({ name: 'alpha' });
    const admin = system.http(secret('alpha-admin'));
    assertProblem(
      await system.http(secret('alpha-write')).post('/api/projects/alpha/tokens').send({ name: 'ci', role: 'write' }),
      403,
      'insufficient-role',
    );
    const made = await second(secret('alpha-admin'))
      .post('/api/projects/alpha/tokens')
      .send({ name: 'ci', role: 'write', expires_in: '30d' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.match(made.body.token, /^tfc_/);
    assertProblem(
      await admin.post('/api/projects/alpha/tokens').send({ name: 'ci', role: 'read' }),
      409,
      'token-name-taken',
    );
    assertProblem(await system.http(secret('beta-admin')).get('/api/projects/alpha/tokens'), 404, 'project-not-found');

    const created = await second(made.body.token).post('/api/ec2instance').send({});
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.project, 'alpha');
    assert.equal(created.body.created_by, 'ci');
    const listed = (await admin.get('/api/projects/alpha/tokens')).body.items;
    assert.equal(listed.length, 1);
    assert.equal(listed[0].token, undefined, 'no secret in the list');
    assert.ok(listed[0].last_used_at, 'its last use is recorded');
    assert.ok(!(await system.everythingInRedis()).includes(made.body.token.slice(4)), 'the secret is not in Redis');

    assert.equal(
      (await second(secret('alpha-admin')).delete(`/api/projects/alpha/tokens/${made.body.id}`)).status,
      204,
    );
    const refused = await system.http(made.body.token).get('/api/ec2instance');
    assertProblem(refused, 401, 'unauthorized');
    assert.match(refused.headers['www-authenticate'] ?? '', /error="invalid_token"/);
    assertProblem(await second(made.body.token).get('/api/ec2instance'), 401, 'unauthorized');
    assert.match(captured.text(), /"requestId"/, 'the second process logged its requests');
    assert.ok(!captured.text().includes(made.body.token.slice(4)), 'the secret is not in the logs');
    assert.ok(!JSON.stringify(created.body).includes(made.body.token.slice(4)));
  });
});

describe('OIDC identity tokens through the API', () => {
  test('a GitHub Actions token of a bound repository on main creates in its project as its sub; an unbound one is 403 no-grants; expired, unsigned or foreign ones are 401', async (t) => {
    const issuer = new Issuer();
    await issuer.start();
    t.after(() => new Promise<void>((resolve) => issuer.server.close(() => resolve())));
    await issuer.addKey('ES256', 'k1');
    const bindings = [
      { claims: { repository: 'acme/payments-*', ref: 'refs/heads/main' }, project: 'payments', role: 'write' },
    ];
    const system = await startSystem({
      env: { API_TOKENS, OIDC_ISSUER: issuer.url, OIDC_AUDIENCE: AUDIENCE, OIDC_BINDINGS: JSON.stringify(bindings) },
    });
    await system.http(secret('root')).post('/api/projects').send({ name: 'payments' });
    const claims = (repository: string, ref: string) => ({
      sub: `repo:${repository}:ref:${ref}`,
      repository,
      repository_owner: repository.split('/')[0],
      ref,
    });

    const ci = await issuer.sign(claims('acme/payments-api', 'refs/heads/main'));
    const made = await system.http(ci).post('/api/ec2instance').send({});
    assert.equal(made.status, 202, JSON.stringify(made.body));
    assert.equal(made.body.project, 'payments');
    assert.equal(made.body.created_by, 'repo:acme/payments-api:ref:refs/heads/main');
    const elsewhere = await system.http(secret('root')).post('/api/ec2instance').send({});
    assertProblem(await system.http(ci).get(`/api/ec2instance/${elsewhere.body.id}`), 404, 'resource-not-found');

    assertProblem(
      await system.http(await issuer.sign(claims('acme/payments-api', 'refs/pull/7/merge'))).get('/api/ec2instance'),
      403,
      'no-grants',
    );
    assertProblem(
      await system
        .http(await issuer.sign(claims('evil/payments-x', 'refs/heads/main')))
        .post('/api/ec2instance')
        .send({}),
      403,
      'no-grants',
    );
    const expired = await issuer.sign(claims('acme/payments-api', 'refs/heads/main'), {
      expiresAt: Math.floor(Date.now() / 1000) - 120,
    });
    const unsigned = `${ci
      .split('.')
      .slice(0, 2)
      .join('.')
      .replace(/^[^.]+/, Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url'))}.`;
    const foreign = await issuer.sign(claims('acme/payments-api', 'refs/heads/main'), { audience: 'someone-else' });
    for (const jwt of [expired, unsigned, foreign]) {
      const refused = await system.http(jwt).get('/api/ec2instance');
      assertProblem(refused, 401, 'unauthorized');
      assert.match(refused.headers['www-authenticate'] ?? '', /error="invalid_token"/);
    }
  });
});
