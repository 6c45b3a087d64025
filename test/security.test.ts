// Who may do what: bearer tokens and scopes, the insecure local mode, the
// Idempotency-Key, the per-token rate limit and live-stack cap, security
// headers, CORS and request ids. No worker runs: nothing reaches Terraform.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import request from 'supertest';
import { startApi } from '../api/server.ts';
import { apiAccess } from '../core/access/api-access.ts';
import { loadConfig } from '../core/config.ts';
import { assertProblem, TOKENS, useSystems, type TestSystem } from './support/harness.ts';
import { captureLogs } from './support/log-capture.ts';

const [startSystem] = useSystems();

async function stackCount(system: TestSystem): Promise<number> {
  return system.store.stacks.count();
}

describe('authentication', () => {
  test('every /api route answers 401 without a token or with a wrong one, and creates nothing', async () => {
    const system = await startSystem();
    const anonymous = request(system.baseUrl);
    for (const call of [
      () => anonymous.post('/api/ec2instance').send({}),
      () => anonymous.get('/api/ec2instance'),
      () => anonymous.get('/api/ec2instance/0123456789abcdef'),
      () => anonymous.delete('/api/ec2instance/0123456789abcdef'),
      () => anonymous.post('/api/ec2instance/0123456789abcdef/retry'),
      () => anonymous.get('/api/jobs/0123456789abcdef'),
      () => anonymous.get('/api/jobs/0123456789abcdef/log'),
      () => anonymous.post('/api/jobs/0123456789abcdef/cancel'),
      () => anonymous.get('/api/no-such-route'),
    ]) {
      const res = await call();
      assertProblem(res, 401, 'unauthorized');
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="tfcompute"');
    }
    for (const header of [
      `Bearer ${TOKENS.admin}x`,
      `Bearer ${TOKENS.admin.slice(0, -1)}`,
      `Basic ${TOKENS.admin}`,
      'Bearer',
      `bearer  ${'x'.repeat(600)}`,
    ]) {
      const res = await request(system.baseUrl).post('/api/ec2instance').set('Authorization', header).send({});
      assertProblem(res, 401, 'unauthorized');
      assert.match(res.headers['www-authenticate'] ?? '', /error="invalid_token"/);
    }
    assert.equal(await stackCount(system), 0);
  });

  test('an API_TOKENS read entry reads every project and changes nothing: 403 naming the role needed; a write entry is an admin of every project', async () => {
    const system = await startSystem();
    const created = await system.http(TOKENS.writer).post('/api/ec2instance').send({});
    assert.equal(created.status, 202);
    assert.equal(created.body.created_by, 'writer');
    assert.equal(created.body.project, 'default', 'a legacy token creates in the default project');
    const read = await system.http(TOKENS.reader).get(`/api/ec2instance/${created.body.id}`);
    assert.equal(read.status, 200);
    assert.equal((await system.http(TOKENS.reader).get(`/api/jobs/${created.body.job.id}/log`)).status, 200);

    const denied = await system.http(TOKENS.reader).post('/api/ec2instance').send({});
    assertProblem(denied, 403, 'insufficient-role');
    assert.match(denied.body.detail, /needs the write role in project "default"; "reader" has read/);
    assertProblem(
      await system.http(TOKENS.reader).delete(`/api/ec2instance/${created.body.id}`),
      403,
      'insufficient-role',
    );
    assertProblem(
      await system.http(TOKENS.reader).post(`/api/jobs/${created.body.job.id}/cancel`),
      403,
      'insufficient-role',
    );
    assertProblem(await system.http(TOKENS.reader).get('/api/webhooks'), 403, 'insufficient-role');
    assert.equal((await system.http(TOKENS.writer).get('/api/ec2instance')).status, 200);
    assert.equal(await stackCount(system), 1);
    assert.equal((await system.stack(created.body.id)).status, 'creating', 'the refused DELETE changed nothing');
  });

  test('health, readiness, metrics, the OpenAPI document and Swagger UI stay open', async () => {
    const system = await startSystem();
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/swagger/']) {
      assert.equal((await request(system.baseUrl).get(path)).status, 200, path);
    }
    const document = (await request(system.baseUrl).get('/openapi.json')).body;
    assert.deepEqual(document.components.securitySchemes.bearerAuth, {
      type: 'http',
      scheme: 'bearer',
      description: document.components.securitySchemes.bearerAuth.description,
    });
    assert.deepEqual(document.security, [{ bearerAuth: [] }]);
    assert.deepEqual(document.paths['/healthz'].get.security, []);
  });

  test('the token never appears in the logs, even in a failed request', async () => {
    const system = await startSystem();
    const captured = captureLogs();
    const api = await startApi(loadConfig({ ...system.env, LOG_LEVEL: 'trace' }), captured.logger());
    try {
      const base = `http://127.0.0.1:${api.port}`;
      await request(base).post('/api/ec2instance').set('Authorization', `Bearer ${TOKENS.admin}`).send({});
      await request(base).post('/api/ec2instance').set('Authorization', `Bearer ${TOKENS.admin}`).send('{bad');
      await request(base).get('/api/ec2instance').set('Authorization', `Bearer ${TOKENS.admin}-wrong`);
    } finally {
      await api.stop();
    }
    assert.match(captured.text(), /"requestId"/);
    assert.doesNotMatch(captured.text(), new RegExp(TOKENS.admin.slice(0, 16)));
  });

  test('without tokens the API refuses to start, unless in insecure local mode on a loopback address', async () => {
    const system = await startSystem();
    const { API_TOKENS: _, ...env } = system.env;
    const logger = pino({ level: 'silent' });
    await assert.rejects(startApi(loadConfig(env), logger), /API_TOKENS: no tokens/);
    await assert.rejects(
      startApi(loadConfig({ ...env, AUTH_MODE: 'insecure-local', HOST: '0.0.0.0' }), logger),
      /needs HOST to be a loopback address/,
    );
    assert.throws(
      () => apiAccess(loadConfig({ ...env, API_TOKENS: 'ci:read+write:short' })),
      /API_TOKENS: .*at least 24 characters/,
    );
    assert.throws(
      () => apiAccess(loadConfig({ ...env, API_TOKENS: 'ci:boss:0123456789abcdef0123456789' })),
      /API_TOKENS: token "ci": the roles must be/,
    );
    // Workers never read the tokens: a malformed API_TOKENS does not stop one.
    const worker = await system.startWorker({ env: { API_TOKENS: 'ci:admin:short' } });
    assert.match(worker.workerId, /\S/);

    const captured = captureLogs();
    const api = await startApi(
      loadConfig({ ...env, AUTH_MODE: 'insecure-local', HOST: '127.0.0.1' }),
      captured.logger(),
    );
    try {
      const res = await request(`http://127.0.0.1:${api.port}`).post('/api/ec2instance').send({});
      assert.equal(res.status, 202);
      assert.equal(res.body.created_by, 'local');
    } finally {
      await api.stop();
    }
    assert.match(captured.text(), /insecure-local/);
  });
});

describe('Idempotency-Key', () => {
  test('the same key and body return the same resource; a different body is 422; nothing extra is created', async () => {
    const system = await startSystem();
    const body = { node_count: 2, tags: { b: '2', a: '1' } };
    const first = await system.http().post('/api/ec2instance').set('Idempotency-Key', '"order-7781"').send(body);
    assert.equal(first.status, 202);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const again = await system
      .http()
      .post('/api/ec2instance')
      .set('Idempotency-Key', '"order-7781"')
      .send({ tags: { a: '1', b: '2' }, node_count: 2 });
    assert.equal(again.status, 202);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.job.id, first.body.job.id);
    assert.equal(again.headers['idempotent-replayed'], 'true');

    const different = await system
      .http()
      .post('/api/ec2instance')
      .set('Idempotency-Key', '"order-7781"')
      .send({ node_count: 3 });
    assertProblem(different, 422, 'idempotency-key-reused');
    assert.equal(await stackCount(system), 1);

    // Keys belong to a token: another token's same key is a new request.
    const other = await system
      .http(TOKENS.writer)
      .post('/api/ec2instance')
      .set('Idempotency-Key', 'order-7781')
      .send(body);
    assert.equal(other.status, 202);
    assert.notEqual(other.body.id, first.body.id);
    const ttl = await system.store.stacks.idempotencyKeyTtl('admin', 'order-7781');
    assert.ok(ttl > 23 * 3600 && ttl <= 24 * 3600, `kept for 24 h, not ${ttl} s`);
  });

  test('concurrent requests with one key make exactly one resource', async () => {
    const system = await startSystem();
    const replies = await Promise.all(
      Array.from({ length: 10 }, () =>
        system.http().post('/api/ec2instance').set('Idempotency-Key', 'burst-1').send({}),
      ),
    );
    assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([202]));
    assert.equal(new Set(replies.map((r) => r.body.id)).size, 1);
    assert.equal(await stackCount(system), 1);
  });

  test('a malformed key is refused with 400 before anything is recorded', async () => {
    const system = await startSystem();
    for (const key of ['', '"unterminated', 'x'.repeat(256), 'tab\there']) {
      assertProblem(
        await system.http().post('/api/ec2instance').set('Idempotency-Key', key).send({}),
        400,
        'invalid-idempotency-key',
      );
    }
    assert.equal(await stackCount(system), 0);
  });
});

describe('limits', () => {
  test('a token over its rate limit gets 429 with Retry-After, and other tokens are unaffected', async () => {
    const system = await startSystem({ env: { RATE_LIMIT_PER_MINUTE: '5' } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await system.http().get('/api/ec2instance');
      statuses.push(res.status);
      assert.equal(res.headers['ratelimit-limit'], '5');
      assert.equal(res.headers['ratelimit-remaining'], String(4 - i));
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    const limited = await system.http().post('/api/ec2instance').send({});
    assertProblem(limited, 429, 'rate-limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60);
    assert.equal(await stackCount(system), 0);
    assert.equal((await system.http(TOKENS.reader).get('/api/ec2instance')).status, 200);
  });

  test('a token at its cap of live resources gets 403 until one is deleted', async () => {
    const system = await startSystem({ env: { MAX_LIVE_RESOURCES_PER_TOKEN: '2' } });
    const a = await system.http().post('/api/ec2instance').send({});
    await system.http().post('/api/ec2instance').send({});
    assertProblem(await system.http().post('/api/ec2instance').send({}), 403, 'resource-limit-reached');
    assert.equal(await stackCount(system), 2);
    assert.equal(
      (await system.http(TOKENS.writer).post('/api/ec2instance').send({})).status,
      202,
      'the cap is per token',
    );

    // A create not started yet is cancelled by DELETE: the stack is deleted at once.
    assert.equal((await system.http().delete(`/api/ec2instance/${a.body.id}`)).body.status, 'deleted');
    assert.equal((await system.http().post('/api/ec2instance').send({})).status, 202);
  });
});

describe('headers', () => {
  test('every answer carries security headers and a request id; a sane X-Request-Id is kept', async () => {
    const system = await startSystem();
    for (const res of [
      await system.http().get('/api/ec2instance'),
      await request(system.baseUrl).get('/api/ec2instance'),
      await request(system.baseUrl).get('/healthz'),
    ]) {
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(res.headers['content-security-policy'] ?? '', /default-src 'self'/);
      assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
      assert.match(res.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS unless configured');
    }
    const traced = await system.http().get('/api/ec2instance/0123456789abcdef').set('X-Request-Id', 'trace-42');
    assert.equal(traced.headers['x-request-id'], 'trace-42');
    assert.equal(traced.body.request_id, 'trace-42');
    const insane = await system.http().get('/healthz').set('X-Request-Id', 'a b<script>');
    assert.notEqual(insane.headers['x-request-id'], 'a b<script>');
  });

  test('CORS answers only the configured origins', async () => {
    const system = await startSystem({ env: { CORS_ORIGINS: 'https://console.example.com' } });
    const allowed = await system.http().get('/api/ec2instance').set('Origin', 'https://console.example.com');
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://console.example.com');
    const preflight = await request(system.baseUrl)
      .options('/api/ec2instance')
      .set('Origin', 'https://console.example.com')
      .set('Access-Control-Request-Method', 'POST');
    assert.equal(preflight.status, 204);
    const other = await system.http().get('/api/ec2instance').set('Origin', 'https://evil.example.net');
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });
});
