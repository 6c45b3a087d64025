// Fuzzing driven by the OpenAPI document: thousands of generated and mutated
// requests over every documented route, plus undocumented methods, odd
// content types, tokens, headers and bodies. Nothing may answer 5xx, every
// error must be problem+json, the API must stay up, and only the creates that
// were accepted may have made a stack. No worker runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TOKENS, useSystems } from './support/harness.ts';

const [startSystem] = useSystems();
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

type Operation = { method: string; path: string };

test(`${RUNS} generated requests: no 5xx, problem+json errors, and no resource from an invalid request`, async (t) => {
  const system = await startSystem({
    env: {
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000',
      MAX_LIVE_RESOURCES_PER_TOKEN: '1000000',
    },
  });
  const document = (await system.http().get('/openapi.json')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete', 'options', 'head']) {
      // Documented methods three times as often as the others.
      const weight = method in methods ? 3 : 1;
      for (let i = 0; i < weight; i += 1) operations.push({ method: method.toUpperCase(), path });
    }
  }
  const seeded = await system.http().post('/api/ec2instance').send({});
  const knownIds = [seeded.body.id as string, seeded.body.job.id as string];
  const created = new Set<string>([seeded.body.id]);

  const id = fc.oneof(
    fc.constantFrom(...knownIds),
    fc.stringMatching(/^[0-9a-z]{16}$/),
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      '..%2F..%2Fetc',
      '%00',
      'AAAAAAAAAAAAAAAA',
      ' ',
      '0123456789abcdef0',
      '%F0%9F%92%A5',
      'x'.repeat(300),
    ),
  );
  const validBody = fc.record(
    {
      instance_type: fc.oneof(fc.constantFrom('t3.micro', 'm7i.large', 't2.micro', ''), fc.string()),
      node_count: fc.oneof(fc.integer({ min: -5, max: 15 }), fc.double(), fc.string(), fc.constant(null)),
      tags: fc.oneof(
        fc.dictionary(fc.string({ maxLength: 130 }), fc.string({ maxLength: 260 }), { maxKeys: 25 }),
        fc.jsonValue(),
      ),
      ttl: fc.oneof(fc.constantFrom('2h', '90d', '91d', '0s', '1w', '5m'), fc.string(), fc.integer()),
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    validBody.map((b) => JSON.stringify(b)),
    fc
      .tuple(validBody, fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue())
      .map(([b, k, v]) => JSON.stringify({ ...b, [k]: v })),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.constantFrom(
      '',
      '{',
      '{"node_count": 2',
      'null',
      '[]',
      '"x"',
      '{"__proto__": {"admin": true}}',
      '{"constructor": {"prototype": {}}}',
      `{"tags": {"${'k'.repeat(20_000)}": "v"}}`,
    ),
  );
  const header = (values: string[]) =>
    fc.option(
      fc.oneof(
        fc.constantFrom(...values),
        fc.string({ maxLength: 60 }).filter((v) => /^[\x20-\x7e]*$/.test(v)),
      ),
      { nil: undefined },
    );
  const request = fc.record({
    operation: fc.constantFrom(...operations),
    id,
    query: fc.option(
      fc.dictionary(
        fc.constantFrom('status', 'limit', 'cursor', 'x', 'limit[]'),
        fc.oneof(fc.string(), fc.constantFrom('ready', '0', '101', '20', 'creating', 'AAAA')),
      ),
      { nil: undefined },
    ),
    token: fc.constantFrom<string | undefined>(
      TOKENS.admin,
      TOKENS.admin,
      TOKENS.writer,
      TOKENS.reader,
      undefined,
      'wrong-token-0123456789abcdefghij',
    ),
    contentType: header([
      'application/json',
      'application/json; charset=utf-8',
      'application/merge-patch+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
    ]),
    accept: header(['application/json', 'text/plain', 'text/event-stream', '*/*', 'application/xml']),
    prefer: header(['wait=0', 'wait=1', 'wait=abc', 'respond-async', 'wait=-1']),
    idempotencyKey: header(['"k-1"', 'k-1', '"', '']),
    body: fc.option(body, { nil: undefined }),
  });

  let sent = 0;
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      sent += 1;
      const path = r.operation.path.replace(
        /\{[^}]+\}/g,
        encodeURIComponent(r.id).replaceAll('%2F', '/').replaceAll('%25', '%'),
      );
      const query = r.query ? `?${new URLSearchParams(r.query).toString()}` : '';
      const headers: Record<string, string> = {};
      if (r.token) headers.authorization = `Bearer ${r.token}`;
      if (r.contentType !== undefined) headers['content-type'] = r.contentType;
      if (r.accept !== undefined) headers.accept = r.accept;
      if (r.prefer !== undefined) headers.prefer = r.prefer;
      if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;
      const hasBody = r.body !== undefined && !['GET', 'HEAD'].includes(r.operation.method);
      const response = await fetch(`${system.baseUrl}${path}${query}`, {
        method: r.operation.method,
        headers,
        ...(hasBody ? { body: r.body } : {}),
        signal: AbortSignal.timeout(10_000),
      });
      const type = response.headers.get('content-type') ?? '';
      // A live log stream stays open while its job runs; its answer is the headers.
      const text = type.startsWith('text/event-stream')
        ? ((await response.body?.cancel()) ?? '')
        : await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const where = `${r.operation.method} ${path}${query} -> ${response.status} ${text.slice(0, 200)}`;
      if (response.status >= 500) failures.push(where);
      if (response.status >= 400 && r.operation.method !== 'HEAD' && !type.startsWith('application/problem+json'))
        failures.push(`not problem+json: ${where}`);
      // Only a create sets Location (trailing slashes and the like reach it too).
      if (r.operation.method === 'POST' && response.ok && response.headers.get('location')) {
        created.add((JSON.parse(text) as { id: string }).id);
      }
      return response.status < 500;
    }),
    { numRuns: RUNS, ...(process.env.TEST_SEED ? { seed: Number(process.env.TEST_SEED) } : {}) },
  );
  assert.deepEqual(failures.slice(0, 10), []);
  assert.equal((await system.http().get('/healthz')).status, 200, 'still up');
  const resources = await system.store.stacks.count();
  assert.equal(resources, created.size, 'only accepted creates made resources');
  t.diagnostic(
    `fuzz: ${sent} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}, ${created.size} resources from accepted creates, 5xx 0`,
  );
});
