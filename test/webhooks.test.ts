// Lifecycle events and webhooks, end to end: real stacks changed by a real
// worker and Terraform, events delivered over HTTP to a real receiver on
// loopback, signatures checked with the standardwebhooks package and data
// with Ajv against the schemas GET /api/event-types publishes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { startApi } from '../api/server.ts';
import { loadConfig } from '../core/config.ts';
import { startWorker } from '../worker/worker.ts';
import { assertProblem, TOKENS, useSystems, type TestSystem } from './support/harness.ts';
import { captureLogs } from './support/log-capture.ts';
import { EVENTS_ENV, Receiver, type Received } from './support/receiver.ts';

const [startSystem] = useSystems();

async function receiver(t: { after(fn: () => Promise<void>): void }): Promise<Receiver> {
  const r = await new Receiver().start();
  t.after(() => r.stop());
  return r;
}

async function register(system: TestSystem, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await system.http().post('/api/webhooks').send(body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

function verify(secret: string, request: Received): unknown {
  return new Webhook(secret).verify(request.body, request.headers);
}

// A job's event comes before the stack's event it causes.
const LIFECYCLE = [
  'io.tfcompute.job.queued',
  'io.tfcompute.stack.creating',
  'io.tfcompute.job.running',
  'io.tfcompute.job.succeeded',
  'io.tfcompute.stack.ready',
];

describe('events of a stack', () => {
  test('a created stack sends one signed CloudEvent per change, in sequence, with thin data that matches its published schema', async (t) => {
    const system = await startSystem({ worker: true, env: EVENTS_ENV });
    const r = await receiver(t);
    const webhook = await register(system, { url: r.url, description: 'everything' });
    assert.match(webhook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);

    const created = await system
      .http()
      .post('/api/ec2instance')
      .set('Prefer', 'wait=60')
      .send({ node_count: 1, tags: { team: 'infra' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id: string = created.body.id;
    await r.waitFor(() => r.events().some((e) => e.type === 'io.tfcompute.stack.ready'), 'stack.ready');

    const events = r.events().filter((e) => e.subject === id);
    assert.deepEqual(events.map((e) => e.type).sort(), [...LIFECYCLE].sort());
    assert.deepEqual(events.map((e) => e.sequence).sort(), [
      '0000000000000001',
      '0000000000000002',
      '0000000000000003',
      '0000000000000004',
      '0000000000000005',
    ]);
    const bySequence = [...events].sort((a, b) => a.sequence.localeCompare(b.sequence)).map((e) => e.type);
    assert.deepEqual(bySequence, LIFECYCLE, 'the sequence orders the events as they were recorded');
    assert.equal(
      (await system.store.outbox.entries()).filter((e) => e.subject === id).length,
      events.length,
      'one event per recorded change: the outbox and the receiver agree',
    );

    const schemas = new Map(
      ((await system.http().get('/api/event-types')).body.items as Array<{ type: string; data_schema: object }>).map(
        (i) => [i.type, i.data_schema],
      ),
    );
    const ajv = new Ajv2020({ strict: false });
    for (const request of r.requests) {
      assert.equal(request.headers['content-type'], 'application/cloudevents+json');
      assert.equal(request.headers['webhook-id'], request.event.id);
      verify(webhook.secret, request);
      const event = request.event;
      assert.equal(event.specversion, '1.0');
      assert.match(String(event.source), /^urn:tfcompute:site:[0-9a-f]{128}$/);
      assert.equal(event.datacontenttype, 'application/json');
      assert.ok(!Number.isNaN(Date.parse(String(event.time))));
      const validate = ajv.compile(schemas.get(event.type) as object);
      assert.ok(validate(event.data), `${event.type}: ${JSON.stringify(validate.errors)}`);
      assert.doesNotMatch(
        request.body,
        /instance_type|node_count|outputs|inputs|diagnostics/,
        'no inputs, outputs or diagnostics leave',
      );
    }
    const ready = events.find((e) => e.type === 'io.tfcompute.stack.ready')!;
    assert.deepEqual(ready.data, {
      stack: {
        id,
        project: 'default',
        href: `/api/ec2instance/${id}`,
        status: 'ready',
        template: created.body.template,
        tags: { team: 'infra' },
      },
      job: { id: created.body.job.id, href: `/api/jobs/${created.body.job.id}`, action: 'create', status: 'succeeded' },
    });
    assert.equal(new Set(r.requests.map((q) => q.event.source)).size, 1, 'one source for the installation');
  });

  test('a webhook gets only the types it asked for; an update, its plan and a delete send theirs', async (t) => {
    const system = await startSystem({ fixture: 'changes', worker: true, env: EVENTS_ENV });
    const r = await receiver(t);
    await register(system, {
      url: r.url,
      event_types: [
        'io.tfcompute.stack.ready',
        'io.tfcompute.job.planned',
        'io.tfcompute.job.discarded',
        'io.tfcompute.stack.deleted',
      ],
    });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 1 });
    const id: string = created.body.id;
    const patched = await system
      .http()
      .patch(`/api/ec2instance/${id}`)
      .set('Prefer', 'wait=60')
      .send({ inputs: { node_count: 2 } });
    assert.equal(patched.body.job.status, 'planned', JSON.stringify(patched.body));
    assert.equal((await system.http().post(`/api/jobs/${patched.body.job.id}/discard`)).status, 200);
    assert.equal((await system.http().delete(`/api/ec2instance/${id}`).set('Prefer', 'wait=60')).status, 200);
    await r.waitFor(() => r.events().some((e) => e.type === 'io.tfcompute.stack.deleted'), 'stack.deleted');
    const types = r.events().map((e) => e.type);
    // ready (created), planned, discarded, ready (the update discarded: back to ready), deleted
    assert.deepEqual(
      types.sort(),
      [
        'io.tfcompute.job.discarded',
        'io.tfcompute.job.planned',
        'io.tfcompute.stack.deleted',
        'io.tfcompute.stack.ready',
        'io.tfcompute.stack.ready',
      ].sort(),
    );
  });
});

describe('webhooks', () => {
  test('registering: the secret is shown once; bad bodies and refused addresses are 400 and change nothing; admins of every project read and change them, no one else sees them', async () => {
    const system = await startSystem({ env: { ...EVENTS_ENV, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
    for (const url of [
      'http://127.0.0.1:9/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/x',
      'http://10.1.2.3/',
      'http://localhost:8080/',
      'http://[fd00:ec2::254]/',
    ]) {
      const res = await system.http().post('/api/webhooks').send({ url });
      assertProblem(res, 400, 'validation-failed');
      assert.equal(res.body.errors[0].path, 'url', url);
      assert.match(res.body.detail, /WEBHOOK_ALLOW_PRIVATE_NETWORKS/);
    }
    for (const body of [
      {},
      { url: 'ftp://example.com/' },
      { url: 'https://user:pw@example.com/' },
      { url: 'https://example.com/', event_types: ['io.tfcompute.nope'] },
      { url: 'https://example.com/', extra: 1 },
    ]) {
      assertProblem(await system.http().post('/api/webhooks').send(body), 400, 'validation-failed');
    }
    assert.deepEqual((await system.http().get('/api/webhooks')).body.items, [], 'nothing was registered');
    assertProblem(
      await system.http(TOKENS.reader).post('/api/webhooks').send({ url: 'https://example.com/' }),
      403,
      'insufficient-role',
    );

    const open = await startSystem({ env: EVENTS_ENV });
    const made = await open.http().post('/api/webhooks').send({ url: 'http://127.0.0.1:9/hook', description: 'dev' });
    assert.equal(made.status, 201);
    assert.equal(made.headers.location, `/api/webhooks/${made.body.id}`);
    const read = await open.http(TOKENS.writer).get(`/api/webhooks/${made.body.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.secret, undefined, 'the secret is not shown again');
    assert.deepEqual(
      (await open.http(TOKENS.writer).get('/api/webhooks')).body.items.map((w: { id: string }) => w.id),
      [made.body.id],
    );
    // Receiver URLs can carry secrets: a reader is told the webhook does not exist.
    const hidden = await open.http(TOKENS.reader).get(`/api/webhooks/${made.body.id}`);
    assertProblem(hidden, 404, 'webhook-not-found');
    assertProblem(await open.http(TOKENS.reader).get('/api/webhooks'), 403, 'insufficient-role');
    const dump = JSON.stringify(await open.redis.hgetall(`${open.config.redisPrefix}:wh:${made.body.id}`));
    assert.ok(!dump.includes(made.body.secret.slice(6)), 'the secret is stored encrypted');

    const noKey = await startSystem({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
    assertProblem(
      await noKey.http().post('/api/webhooks').send({ url: 'http://127.0.0.1:9/hook' }),
      409,
      'encryption-key-not-set',
    );
  });

  test('a failing receiver is retried with backoff (Retry-After honoured) until it answers 2xx; every attempt is listed', async (t) => {
    const system = await startSystem({ worker: true, env: EVENTS_ENV });
    const r = await receiver(t);
    r.answer = (_request, index) =>
      index === 0 ? { status: 503, headers: { 'retry-after': '1' } } : index === 1 ? { status: 500 } : { status: 200 };
    const webhook = await register(system, { url: r.url });
    const ping = await system.http().post(`/api/webhooks/${webhook.id}/ping`);
    assert.equal(ping.status, 202, JSON.stringify(ping.body));
    await r.waitFor((requests) => requests.length >= 3, 'three attempts');
    const [first, second, third] = r.requests as [Received, Received, Received];
    assert.ok(second.at - first.at >= 1_000, `Retry-After: 1 was honoured (${second.at - first.at} ms)`);
    assert.equal(
      new Set([first, second, third].map((q) => q.headers['webhook-id'])).size,
      1,
      'every attempt carries the same webhook-id',
    );
    for (const q of [first, second, third]) verify(webhook.secret, q);
    const delivery = await waitForDelivery(system, webhook.id, ping.body.id, (d) => d.status !== 'pending');
    assert.equal(delivery.status, 'succeeded');
    assert.deepEqual(
      delivery.attempts.map((a: { status_code: number }) => a.status_code),
      [503, 500, 200],
    );
    const metrics = (await system.http().get('/metrics')).text;
    assert.match(metrics, /tfcompute_webhook_delivery_attempts_total\{outcome="retried"\} 2/);
    assert.match(metrics, /tfcompute_webhook_delivery_attempts_total\{outcome="delivered"\} 1/);
  });

  test('410 Gone disables the webhook and says why; PATCH enabled resumes it. A redirect is not followed and not retried', async (t) => {
    const system = await startSystem({ worker: true, env: EVENTS_ENV });
    const r = await receiver(t);
    r.answer = (request) =>
      request.path.endsWith('gone')
        ? { status: 410 }
        : { status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } };
    const gone = await register(system, { url: `${r.url}/gone` });
    const ping = await system.http().post(`/api/webhooks/${gone.id}/ping`);
    const ended = await waitForDelivery(system, gone.id, ping.body.id, (d) => d.status !== 'pending');
    assert.equal(ended.status, 'failed');
    const disabled = (await system.http().get(`/api/webhooks/${gone.id}`)).body;
    assert.equal(disabled.enabled, false);
    assert.match(disabled.disabled_reason, /410 Gone/);
    const enabled = await system.http().patch(`/api/webhooks/${gone.id}`).send({ enabled: true });
    assert.equal(enabled.body.enabled, true);
    assert.equal(enabled.body.disabled_reason, null);

    const moved = await register(system, { url: `${r.url}/moved` });
    const redirected = await system.http().post(`/api/webhooks/${moved.id}/ping`);
    const failed = await waitForDelivery(system, moved.id, redirected.body.id, (d) => d.status !== 'pending');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.attempts.length, 1, 'not retried');
    assert.match(failed.error, /redirect/);
    assert.equal(r.requests.filter((q) => q.path.endsWith('elsewhere')).length, 0, 'the redirect was not followed');
  });

  test('a rotated secret signs beside the new one; redelivery sends the same event again as a new delivery', async (t) => {
    const system = await startSystem({ worker: true, env: EVENTS_ENV });
    const r = await receiver(t);
    const webhook = await register(system, { url: r.url });
    const rotated = await system.http().post(`/api/webhooks/${webhook.id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, webhook.secret);
    assert.ok(Date.parse(rotated.body.previous_secret_expires_at) > Date.now() + 23 * 3_600_000);
    const ping = await system.http().post(`/api/webhooks/${webhook.id}/ping`);
    await r.waitFor((requests) => requests.length >= 1, 'the ping');
    const request = r.requests[0]!;
    assert.equal(request.headers['webhook-signature']?.split(' ').length, 2, 'two signatures');
    verify(webhook.secret, request);
    verify(rotated.body.secret, request);
    assert.equal(request.event.type, 'io.tfcompute.webhook.ping');
    assert.equal(request.event.subject, webhook.id);

    await waitForDelivery(system, webhook.id, ping.body.id, (d) => d.status === 'succeeded');
    const again = await system.http().post(`/api/webhooks/${webhook.id}/deliveries/${ping.body.id}/redeliver`);
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal(again.body.redelivery_of, ping.body.id);
    await r.waitFor((requests) => requests.length >= 2, 'the redelivery');
    assert.equal(r.requests[1]!.headers['webhook-id'], request.headers['webhook-id'], 'the same event id');
    assert.equal(r.requests[1]!.body, request.body, 'the same body');
    const list = (await system.http().get(`/api/webhooks/${webhook.id}/deliveries?limit=1`)).body;
    assert.equal(list.items[0].id, again.body.id, 'newest first');
    const next = (await system.http().get(`/api/webhooks/${webhook.id}/deliveries?limit=1&cursor=${list.next_cursor}`))
      .body;
    assert.equal(next.items[0].id, ping.body.id);
    assert.equal(next.next_cursor, null);

    assert.equal((await system.http().delete(`/api/webhooks/${webhook.id}`)).status, 204);
    assertProblem(await system.http().get(`/api/webhooks/${webhook.id}`), 404, 'webhook-not-found');
    assertProblem(await system.http().get(`/api/webhooks/not-an-id`), 400, 'invalid-id');
  });

  test('the address is checked again when a delivery connects: a name that now resolves to loopback is refused (DNS rebinding)', async (t) => {
    // The API allowed it when it was registered; the worker that delivers does not.
    const system = await startSystem({ env: EVENTS_ENV });
    await system.startWorker({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
    const r = await receiver(t);
    const webhook = await register(system, { url: r.url.replace('127.0.0.1', 'localhost') });
    const ping = await system.http().post(`/api/webhooks/${webhook.id}/ping`);
    const failed = await waitForDelivery(system, webhook.id, ping.body.id, (d) => d.status !== 'pending');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.attempts.length, 1, 'not retried');
    assert.match(failed.error, /refused: the receiver's address is not allowed/);
    const literal = await register(system, { url: r.url });
    const second = await system.http().post(`/api/webhooks/${literal.id}/ping`);
    assert.match(
      (await waitForDelivery(system, literal.id, second.body.id, (d) => d.status !== 'pending')).error,
      /refused: the receiver's address is not allowed/,
    );
    assert.equal(r.requests.length, 0, 'nothing reached the receiver');
  });

  test('a secret never appears in the logs, in Redis, in a job or in a delivery record, whatever happens to the deliveries', async (t) => {
    const system = await startSystem({ env: EVENTS_ENV });
    const captured = captureLogs();
    const api = await startApi(loadConfig({ ...system.env, LOG_LEVEL: 'trace' }), captured.logger());
    t.after(() => api.stop());
    const worker = await startWorker(loadConfig({ ...system.env, LOG_LEVEL: 'trace' }), captured.logger());
    t.after(() => worker.stop());
    const r = await receiver(t);
    r.answer = (_request, index) => (index % 2 === 0 ? { status: 500 } : { status: 204 });
    const http = () => request(`http://127.0.0.1:${api.port}`);
    const auth = { Authorization: `Bearer ${TOKENS.admin}` };
    const made = await http().post('/api/webhooks').set(auth).send({ url: r.url });
    const rotated = await http().post(`/api/webhooks/${made.body.id}/rotate-secret`).set(auth);
    const created = await http().post('/api/ec2instance').set(auth).set('Prefer', 'wait=60').send({});
    assert.equal(created.status, 201);
    await r.waitFor(() => r.events().some((e) => e.type === 'io.tfcompute.stack.ready'), 'stack.ready');
    const secrets = [made.body.secret, rotated.body.secret].map((secret: string) => secret.slice('whsec_'.length));
    const logs = captured.text();
    const everything = [logs, await redisText(system)].join('\n');
    for (const secret of secrets) {
      assert.ok(!everything.includes(secret), 'the secret is nowhere');
      assert.ok(!everything.includes(Buffer.from(secret, 'base64').toString('hex')), 'not even as hex');
    }
    assert.match(logs, /"requestId"/);
  });

  test('an event whose data does not match its schema is not sent; it is logged and counted', async (t) => {
    const system = await startSystem({ worker: true, env: EVENTS_ENV });
    const r = await receiver(t);
    await register(system, { url: r.url });
    await system.redis.xadd(
      `${system.config.redisPrefix}:events:outbox`,
      '*',
      'type',
      'io.tfcompute.stack.ready',
      'subject',
      'x',
      'sequence',
      '1',
      'time',
      new Date().toISOString(),
      'data',
      JSON.stringify({ stack: { id: 'x', password: 'hunter2' } }),
    );
    const ping = await system.http().post('/api/webhooks').send({ url: r.url });
    await system.http().post(`/api/webhooks/${ping.body.id}/ping`);
    await r.waitFor(
      (requests) => requests.some((q) => q.event.type === 'io.tfcompute.webhook.ping'),
      'the ping sent after it',
    );
    const deadline = Date.now() + 10_000;
    while ((await system.store.outbox.counts()).invalid !== 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await system.store.outbox.counts()).invalid, 1);
    assert.ok(!r.requests.some((q) => q.body.includes('hunter2')), 'nothing of it left');
    assert.match((await system.http().get('/metrics')).text, /tfcompute_events_total\{result="invalid"\} 1/);
    // The test wrote an entry no script did; the harness's check of the outbox would name it.
    await system.redis.del(`${system.config.redisPrefix}:events:outbox`);
  });
});

async function waitForDelivery(
  system: TestSystem,
  webhookId: string,
  deliveryId: string,
  until: (d: { status: string; attempts: unknown[]; error: string }) => boolean,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await system.http().get(`/api/webhooks/${webhookId}/deliveries/${deliveryId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    if (until(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`delivery ${deliveryId} is still ${JSON.stringify(res.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Every value under the system's prefix, as text (hashes, strings, lists, sets, streams).
async function redisText(system: TestSystem): Promise<string> {
  const out: string[] = [];
  for (const key of await system.redis.keys(`${system.config.redisPrefix}*`)) {
    const type = await system.redis.type(key);
    if (type === 'hash') out.push(JSON.stringify(await system.redis.hgetall(key)));
    else if (type === 'string') out.push((await system.redis.get(key)) ?? '');
    else if (type === 'list') out.push(...(await system.redis.lrange(key, 0, -1)));
    else if (type === 'zset') out.push(...(await system.redis.zrange(key, '0', '-1')));
    else if (type === 'set') out.push(...(await system.redis.smembers(key)));
    else if (type === 'stream') out.push(JSON.stringify(await system.redis.xrange(key, '-', '+')));
  }
  return out.join('\n');
}
