// The HTTP contract, with no worker running: validation, problem+json errors,
// listing and pagination, Prefer handling, health checks and the OpenAPI document.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { validate } from '@readme/openapi-parser';
import { assertProblem, TOKENS, useSystems, type TestSystem } from './support/harness.ts';

const [startSystem] = useSystems();
let system: TestSystem;
beforeEach(async () => {
  system = await startSystem();
});

async function stackCount(): Promise<number> {
  return system.store.stacks.count();
}

async function queuedJobs(): Promise<number> {
  return system.queue.getWaitingCount();
}

describe('POST /api/ec2instance', () => {
  test('accepts an empty body with defaults, answers 202 with Location, and queues one job', async () => {
    const res = await system.http().post('/api/ec2instance');
    assert.equal(res.status, 202);
    assert.match(res.body.id, /^[0-9a-z]{16}$/);
    assert.equal(res.headers.location, `/api/ec2instance/${res.body.id}`);
    assert.equal(res.body.status, 'creating');
    assert.deepEqual(res.body.inputs, { instance_type: 't3.micro', node_count: 1, tags: {} });
    assert.equal(res.body.job.action, 'create');
    assert.equal(res.body.job.status, 'queued');
    assert.equal(res.body.job.href, `/api/jobs/${res.body.job.id}`);
    assert.equal(await queuedJobs(), 1);

    const job = await system.http().get(res.body.job.href);
    assert.equal(job.status, 200);
    assert.equal(job.body.status, 'queued');
    assert.equal(job.body.resource_id, res.body.id);
  });

  test('keeps the inputs it was given', async () => {
    const body = { instance_type: 'm7i.large', node_count: 3, tags: { team: 'platform', 'cost-center': '42' } };
    const res = await system.http().post('/api/ec2instance').send(body);
    assert.equal(res.status, 202);
    assert.deepEqual(res.body.inputs, body);
    const again = await system.http().get(`/api/ec2instance/${res.body.id}`);
    assert.deepEqual(again.body.inputs, body);
  });

  const invalidBodies: Array<[string, unknown, string]> = [
    ['an unknown field', { node_count: 1, ami: 'ami-123' }, 'ami'],
    ['node_count 0', { node_count: 0 }, 'node_count'],
    ['node_count 11', { node_count: 11 }, 'node_count'],
    ['a fractional node_count', { node_count: 1.5 }, 'node_count'],
    ['node_count as a string', { node_count: '2' }, 'node_count'],
    ['an instance type off the allow-list', { instance_type: 'p5.48xlarge' }, 'instance_type'],
    ['21 tags', { tags: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) }, 'tags'],
    ['a tag key over 128 characters', { tags: { ['k'.repeat(129)]: 'v' } }, 'tags'],
    ['a tag value over 256 characters', { tags: { k: 'v'.repeat(257) } }, 'tags'],
    ['a reserved aws: tag key', { tags: { 'aws:createdBy': 'me' } }, 'tags'],
    ['a tag value with shell metacharacters', { tags: { k: '$(rm -rf /)' } }, 'tags'],
    ['a non-string tag value', { tags: { k: 1 } }, 'tags'],
    ['an array body', [1, 2], 'body'],
  ];
  for (const [name, body, field] of invalidBodies) {
    test(`rejects ${name} with 400 naming the field, and creates nothing`, async () => {
      const res = await system
        .http()
        .post('/api/ec2instance')
        .send(body as object);
      assertProblem(res, 400, 'validation-failed');
      assert.ok(
        res.body.errors.some((e: { path: string }) => e.path.startsWith(field)) || res.body.detail.includes(field),
        `errors name ${field}: ${JSON.stringify(res.body.errors)}`,
      );
      assert.equal(await stackCount(), 0);
      assert.equal(await queuedJobs(), 0);
    });
  }

  test('rejects malformed JSON with 400', async () => {
    const res = await system
      .http()
      .post('/api/ec2instance')
      .set('content-type', 'application/json')
      .send('{"node_count": ');
    assertProblem(res, 400, 'malformed-json');
    assert.equal(await stackCount(), 0);
  });

  test('rejects a body that is not JSON with 415', async () => {
    const res = await system.http().post('/api/ec2instance').set('content-type', 'text/plain').send('node_count=2');
    assertProblem(res, 415, 'unsupported-media-type');
    const form = await system.http().post('/api/ec2instance').type('form').send({ node_count: 2 });
    assertProblem(form, 415, 'unsupported-media-type');
    assert.equal(await stackCount(), 0);
  });

  test('rejects a body over 16 KB with 413', async () => {
    const res = await system
      .http()
      .post('/api/ec2instance')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ tags: { k: 'v' }, padding: 'x'.repeat(17 * 1024) }));
    assertProblem(res, 413, 'payload-too-large');
    assert.equal(await stackCount(), 0);
  });

  test('with Prefer: wait and no worker, answers 202 after the wait and says the preference was applied', async () => {
    const res = await system.http().post('/api/ec2instance').set('Prefer', 'wait=1').send({});
    assert.equal(res.status, 202);
    assert.equal(res.headers['preference-applied'], 'wait=1');
    assert.equal(res.body.status, 'creating');
  });
});

describe('ids in paths', () => {
  const badIds = [
    '..%2F..%2Fetc%2Fpasswd',
    'abc',
    'ABCDEFGHIJKLMNOP',
    'abcdefghijklmno%3B',
    '%24(reboot)aaaaaaaaaa',
    'a'.repeat(17),
  ];
  for (const id of badIds) {
    test(`"${id}" is refused with 400 on every route`, async () => {
      assertProblem(await system.http().get(`/api/ec2instance/${id}`), 400, 'invalid-id');
      assertProblem(await system.http().delete(`/api/ec2instance/${id}`), 400, 'invalid-id');
      assertProblem(await system.http().get(`/api/jobs/${id}`), 400, 'invalid-id');
      assertProblem(await system.http().get(`/api/jobs/${id}/log`), 400, 'invalid-id');
      assertProblem(await system.http().post(`/api/ec2instance/${id}/retry`), 400, 'invalid-id');
    });
  }

  test('a well-formed id that does not exist is 404', async () => {
    assertProblem(await system.http().get('/api/ec2instance/0123456789abcdef'), 404, 'resource-not-found');
    assertProblem(await system.http().delete('/api/ec2instance/0123456789abcdef'), 404, 'resource-not-found');
    assertProblem(await system.http().get('/api/jobs/0123456789abcdef'), 404, 'job-not-found');
    assertProblem(await system.http().get('/api/jobs/0123456789abcdef/log'), 404, 'job-not-found');
    assertProblem(await system.http().post('/api/ec2instance/0123456789abcdef/retry'), 404, 'resource-not-found');
    assert.equal(await stackCount(), 0);
  });

  test('unknown routes are 404 and unsupported methods 405 with Allow', async () => {
    assertProblem(await system.http().get('/api/nothing'), 404, 'route-not-found');
    const put = await system.http().put('/api/ec2instance/0123456789abcdef').send({});
    assertProblem(put, 405, 'method-not-allowed');
    assert.equal(put.headers.allow, 'GET, PATCH, DELETE');
    const patch = await system.http().patch('/api/ec2instance').send({});
    assertProblem(patch, 405, 'method-not-allowed');
  });
});

describe('DELETE /api/ec2instance/{id}', () => {
  test('cancels a create that has not started: 200 deleted at once, nothing left queued, and a repeat changes nothing', async () => {
    const created = await system.http().post('/api/ec2instance').send({});
    const first = await system.http().delete(`/api/ec2instance/${created.body.id}`);
    assert.equal(first.status, 200);
    assert.equal(first.body.status, 'deleted');
    assert.equal(first.body.job.action, 'delete');
    assert.equal(first.body.job.status, 'succeeded');
    assert.notEqual(first.body.job.id, created.body.job.id);
    assert.equal(await queuedJobs(), 0, 'the create job left the queue');

    const cancelled = await system.http().get(created.body.job.href);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.match(cancelled.body.error.message, /cancelled: the resource was deleted before this job started/);
    assert.match((await system.http().get(`${first.body.job.href}/log`)).text, /had not started; it was cancelled/);

    const second = await system.http().delete(`/api/ec2instance/${created.body.id}`);
    assert.equal(second.status, 200);
    assert.equal(second.body.job.id, first.body.job.id);
  });
});

describe('POST /api/ec2instance/{id}/retry', () => {
  test('is refused with 409 unless the create failed, and changes nothing', async () => {
    const created = await system.http().post('/api/ec2instance').send({});
    const res = await system.http().post(`/api/ec2instance/${created.body.id}/retry`);
    assertProblem(res, 409, 'invalid-state');
    assert.match(res.body.detail, /is creating/);
    const after = await system.http().get(`/api/ec2instance/${created.body.id}`);
    assert.equal(after.body.job.id, created.body.job.id);
    assert.equal(await queuedJobs(), 1);
  });
});

describe('GET /api/ec2instance/{id}/jobs', () => {
  test("lists the stack's jobs newest first, naming who asked, in pages; an unknown id is a 404", async () => {
    const created = await system.http().post('/api/ec2instance').send({});
    // The create has not started: the delete cancels it, with a delete job of its own.
    const deleted = await system.http(TOKENS.writer).delete(`/api/ec2instance/${created.body.id}`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    const res = await system.http(TOKENS.reader).get(`/api/ec2instance/${created.body.id}/jobs`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.items.map((job: { id: string; action: string; status: string; created_by: string }) => [
        job.id,
        job.action,
        job.status,
        job.created_by,
      ]),
      [
        [deleted.body.job.id, 'delete', 'succeeded', 'writer'],
        [created.body.job.id, 'create', 'cancelled', 'admin'],
      ],
    );
    assert.equal(res.body.next_cursor, null);
    const first = await system.http().get(`/api/ec2instance/${created.body.id}/jobs?limit=1`);
    assert.deepEqual(
      first.body.items.map((job: { id: string }) => job.id),
      [deleted.body.job.id],
    );
    const second = await system
      .http()
      .get(`/api/ec2instance/${created.body.id}/jobs`)
      .query({ limit: 1, cursor: first.body.next_cursor });
    assert.deepEqual(
      second.body.items.map((job: { id: string }) => job.id),
      [created.body.job.id],
    );

    // A caller with no role in the stack's project: test/access.test.ts ("list a stack's jobs").
    assertProblem(await system.http().get('/api/ec2instance/0123456789abcdef/jobs'), 404, 'resource-not-found');
    assertProblem(
      await system.http().get(`/api/ec2instance/${created.body.id}/jobs?cursor=bm9wZQ`),
      400,
      'invalid-cursor',
    );
  });
});

describe('GET /api/ec2instance', () => {
  test('pages newest first with an opaque cursor, every resource exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await system.http().post('/api/ec2instance').send({})).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { limit: '3' };
      if (cursor) query.cursor = cursor;
      const res = await system.http().get('/api/ec2instance').query(query);
      assert.equal(res.status, 200);
      assert.ok(res.body.items.length <= 3);
      seen.push(...res.body.items.map((r: { id: string }) => r.id));
      cursor = res.body.next_cursor;
      pages += 1;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), [...ids].sort());
    const created = await Promise.all(seen.map(async (id) => (await system.stack(id)).created_at));
    assert.deepEqual(created, [...created].sort().reverse(), 'newest first');
  });

  test('filters by status', async () => {
    const a = (await system.http().post('/api/ec2instance').send({})).body.id;
    const b = (await system.http().post('/api/ec2instance').send({})).body.id;
    await system.http().delete(`/api/ec2instance/${a}`);
    const deleted = await system.http().get('/api/ec2instance?status=deleted');
    assert.deepEqual(
      deleted.body.items.map((r: { id: string }) => r.id),
      [a],
    );
    const creating = await system.http().get('/api/ec2instance?status=creating');
    assert.deepEqual(
      creating.body.items.map((r: { id: string }) => r.id),
      [b],
    );
    assert.equal((await system.http().get('/api/ec2instance?status=ready')).body.items.length, 0);
  });

  test('rejects a bad status, limit, cursor or unknown parameter with 400', async () => {
    assertProblem(await system.http().get('/api/ec2instance?status=gone'), 400, 'validation-failed');
    assertProblem(await system.http().get('/api/ec2instance?limit=0'), 400, 'validation-failed');
    assertProblem(await system.http().get('/api/ec2instance?limit=101'), 400, 'validation-failed');
    assertProblem(await system.http().get('/api/ec2instance?limit=abc'), 400, 'validation-failed');
    assertProblem(await system.http().get('/api/ec2instance?cursor=bm9wZQ'), 400, 'invalid-cursor');
    assertProblem(await system.http().get('/api/ec2instance?sort=asc'), 400, 'validation-failed');
  });
});

describe('operations endpoints', () => {
  test('/healthz and /readyz answer 200 while Redis is up', async () => {
    assert.equal((await system.http().get('/healthz')).status, 200);
    const ready = await system.http().get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
  });

  test('Swagger UI is served at /swagger', async () => {
    const res = await system.http().get('/swagger/');
    assert.equal(res.status, 200);
    assert.match(res.text, /swagger-ui/);
  });
});

describe('OpenAPI document', () => {
  test('is valid OpenAPI 3.1 and documents every route with its errors', async () => {
    const res = await system.http().get('/openapi.json');
    assert.equal(res.status, 200);
    const document = res.body;
    assert.equal(document.openapi, '3.1.0');
    const result = await validate(structuredClone(document));
    assert.ok(result.valid, JSON.stringify(result));

    const expected: Record<string, string[]> = {
      '/api/ec2instance': ['get', 'post'],
      '/api/ec2instance/{id}': ['get', 'patch', 'delete'],
      '/api/ec2instance/{id}/retry': ['post'],
      '/api/ec2instance/{id}/plan': ['post'],
      '/api/ec2instance/{id}/jobs': ['get'],
      '/api/jobs/{jobId}': ['get'],
      '/api/jobs/{jobId}/log': ['get'],
      '/api/jobs/{jobId}/cancel': ['post'],
      '/api/jobs/{jobId}/apply': ['post'],
      '/api/jobs/{jobId}/discard': ['post'],
      '/api/jobs/{jobId}/override': ['post'],
      '/api/policies': ['get', 'post'],
      '/api/policies/{policyId}': ['get', 'patch', 'delete'],
      '/api/templates': ['get'],
      '/api/templates/{name}': ['get'],
      '/api/event-types': ['get'],
      '/api/projects': ['get', 'post'],
      '/api/projects/{project}': ['get', 'patch', 'delete'],
      '/api/projects/{project}/tokens': ['get', 'post'],
      '/api/projects/{project}/tokens/{tokenId}': ['delete'],
      '/api/audit': ['get'],
      '/api/webhooks': ['get', 'post'],
      '/api/webhooks/{webhookId}': ['get', 'patch', 'delete'],
      '/api/webhooks/{webhookId}/ping': ['post'],
      '/api/webhooks/{webhookId}/rotate-secret': ['post'],
      '/api/webhooks/{webhookId}/deliveries': ['get'],
      '/api/webhooks/{webhookId}/deliveries/{deliveryId}': ['get'],
      '/api/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver': ['post'],
      '/healthz': ['get'],
      '/readyz': ['get'],
      '/metrics': ['get'],
    };
    assert.deepEqual(Object.keys(document.paths).sort(), Object.keys(expected).sort());
    for (const [path, methods] of Object.entries(expected)) {
      assert.deepEqual(Object.keys(document.paths[path]).sort(), methods.sort(), path);
      for (const method of methods) {
        const operation = document.paths[path][method];
        assert.ok(operation.summary, `${method} ${path} has a summary`);
        if (path.startsWith('/api/')) {
          for (const status of ['401', '403', '429'])
            assert.ok(operation.responses[status], `${method} ${path} documents ${status}`);
        }
        for (const [status, response] of Object.entries(operation.responses as Record<string, { content?: object }>)) {
          if (Number(status) >= 400)
            assert.ok('application/problem+json' in (response.content ?? {}), `${method} ${path} ${status}`);
        }
      }
    }
    for (const name of ['CreateEc2instanceRequest', 'Resource', 'Job', 'Problem']) {
      assert.ok(document.components.schemas[name].example, `${name} has an example`);
    }
    assert.deepEqual(document.components.schemas.CreateEc2instanceRequest.additionalProperties, false);
  });
});
