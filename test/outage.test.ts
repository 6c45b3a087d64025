// While Redis is away the API answers quickly with 503 problem+json instead
// of hanging, and it recovers by itself when Redis is back.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { startApi } from '../api/server.ts';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { startRedis, startStateBackend } from './support/local-services.ts';
import { TestSystem } from './support/harness.ts';

test('with Redis down the API answers 503 within seconds, and serves again once Redis is back', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-outage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let redis = await startRedis(dir);
  t.after(() => redis.stop());
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_MODE: 'insecure-local',
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'outage',
    LOG_LEVEL: 'silent',
  });
  const api = await startApi(config, createLogger('silent', 'api'));
  t.after(() => api.stop());
  const base = `http://127.0.0.1:${api.port}`;

  const before = await request(base).post('/api/ec2instance').send({});
  assert.equal(before.status, 202);

  await redis.stop();
  for (const call of [
    () => request(base).post('/api/ec2instance').send({}),
    () => request(base).get(`/api/ec2instance/${before.body.id}`),
    () => request(base).get('/api/ec2instance'),
    () => request(base).get('/readyz'),
  ]) {
    const started = performance.now();
    const res = await call().timeout(10_000);
    assert.equal(res.status, 503, res.text);
    assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(res.body.code, 'backend-unavailable');
    assert.equal(res.headers['retry-after'], '5');
    assert.ok(performance.now() - started < 3_000, 'answered within 3 s');
  }
  assert.equal((await request(base).get('/healthz')).status, 200, 'the process itself is alive');

  redis = await startRedis(dir, { port: redis.port });
  // As an orchestrator would: probe readiness until it turns. ioredis retries
  // at most every 2 s, so it must within a few seconds.
  const deadline = performance.now() + 10_000;
  let res = await request(base).get('/readyz');
  while (res.status !== 200 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    res = await request(base).get('/readyz');
  }
  assert.equal(res.status, 200, 'ready again without a restart');
  const after = await request(base).post('/api/ec2instance').send({});
  assert.equal(after.status, 202, after.text);
  assert.equal((await request(base).get(`/api/ec2instance/${after.body.id}`)).body.status, 'creating');
});

test('a worker told to stop while Redis is down still exits promptly', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-outage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const redis = await startRedis(path.join(dir, 'redis'));
  t.after(() => redis.stop());
  const backend = await startStateBackend(path.join(dir, 'state'));
  t.after(() => backend.stop());
  const system = new TestSystem({ redis, backend, dir, stop: async () => undefined }, {});
  t.after(() => system.stop());
  const worker = await system.spawnWorker();

  await redis.stop();
  const started = performance.now();
  const code = await worker.signal('SIGTERM');
  assert.equal(code, 0);
  assert.ok(performance.now() - started < 5_000, `exited after ${Math.round(performance.now() - started)} ms`);
});
