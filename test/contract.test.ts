// The API contract, judged by tools nobody here wrote: every route the API
// serves is in its OpenAPI document; Stoplight Spectral and Redocly CLI find
// nothing wrong with the document; and Stoplight Prism, proxying the real API
// with a worker, finds no response that disagrees with it across the main flows.
import { loadCatalogue } from '../core/templates/index.ts';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { execa } from 'execa';
import { createDeliveryQueue } from '../core/queue.ts';
import { UI, UiSessions } from '../api/console/index.ts';
import { createApp } from '../api/app.ts';
import { JobWaiter } from '../api/job-waiter.ts';
import { expressPath } from '../api/route.ts';
import { createLogger } from '../core/logger.ts';
import { freePort } from './support/local-services.ts';
import { ROOT, TOKENS, useSystems, type TestSystem } from './support/harness.ts';

const [startSystem] = useSystems();
const BIN = path.join(ROOT, 'node_modules', '.bin');
// Where the linters read the document; .spectral.yaml names this path.
const DOCUMENT = path.join(ROOT, '.local', 'contract', 'openapi.json');
// Served, but not API operations: the document itself and Swagger UI.
const UNDOCUMENTED = new Set(['get /openapi.json']);

type Layer = {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  slash?: boolean;
  matchers?: ((path: string) => unknown)[];
};

// The web console (its HTML pages, under /ui) is not part of the REST API the document describes.
function isConsole(layer: Layer): boolean {
  return !layer.slash && Boolean(layer.matchers?.some((match) => match(`${UI}/`)));
}

function servedRoutes(layers: Layer[], found: string[] = []): string[] {
  for (const layer of layers) {
    if (isConsole(layer)) continue;
    if (layer.route) {
      for (const method of Object.keys(layer.route.methods).filter((m) => m !== '_all'))
        found.push(`${method} ${layer.route.path}`);
    } else if (layer.handle?.stack) {
      servedRoutes(layer.handle.stack, found);
    }
  }
  return found;
}

async function servedDocument(system: TestSystem): Promise<{
  paths: Record<string, Record<string, { operationId?: string; summary?: string; description?: string }>>;
}> {
  const res = await system.http().get('/openapi.json');
  assert.equal(res.status, 200);
  return res.body;
}

test('every route the API serves is in the OpenAPI document, with an operationId, a summary and a description', async () => {
  const system = await startSystem();
  const logger = createLogger('silent', 'api');
  const app = createApp({
    store: system.store,
    queue: system.queue,
    waiter: new JobWaiter(logger),
    redis: system.redis,
    redisPrefix: system.config.redisPrefix,
    logger,
    jobs: { attempts: 1, backoffMs: 1 },
    catalogue: await loadCatalogue(system.config.templates, { canEncrypt: false }),
    secrets: undefined,
    maxLiveStacksPerToken: 1,
    authenticator: undefined,
    limits: { perMinute: 1, failedPerAddressPerMinute: 1, held: 1 },
    metricsTokenDigest: undefined,
    corsOrigins: [],
    shutdown: new AbortController().signal,
    webhooks: {
      store: system.store,
      deliveries: createDeliveryQueue(system.redis, system.config.redisPrefix),
      secrets: undefined,
      attempts: 1,
      source: 'urn:test',
      allowPrivateNetworks: false,
      limit: 1,
      limitPerProject: 1,
    },
    console: {
      sessions: new UiSessions(system.redis, system.config.redisPrefix, 60_000),
      sso: undefined,
      oidc: undefined,
    },
  });
  const served = servedRoutes((app as unknown as { router: { stack: Layer[] } }).router.stack).filter(
    (route) => !UNDOCUMENTED.has(route),
  );
  assert.ok(served.length >= 11, served.join(', '));
  const document = await servedDocument(system);
  const documented = Object.entries(document.paths).flatMap(([p, operations]) =>
    Object.keys(operations).map((method) => `${method} ${expressPath(p)}`),
  );
  assert.deepEqual(
    [...served].sort(),
    [...documented].sort(),
    'the routes served and the operations documented are the same',
  );
  const operationIds = new Set<string>();
  for (const [p, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      assert.ok(operation.operationId && operation.summary && operation.description, `${method} ${p}`);
      assert.ok(!operationIds.has(operation.operationId), `operationId ${operation.operationId} is unique`);
      operationIds.add(operation.operationId);
    }
  }
});

test('Spectral (spectral:oas) and Redocly (recommended) find no problem in the served document', async () => {
  const system = await startSystem();
  await mkdir(path.dirname(DOCUMENT), { recursive: true });
  await writeFile(DOCUMENT, JSON.stringify(await servedDocument(system), null, 2));

  const spectral = await execa(
    path.join(BIN, 'spectral'),
    ['lint', '--ruleset', '.spectral.yaml', '--format', 'json', '--quiet', DOCUMENT],
    { cwd: ROOT, reject: false },
  );
  const findings = JSON.parse(spectral.stdout || '[]') as Array<{ code: string; message: string; path: string[] }>;
  assert.deepEqual(
    findings.map((f) => `${f.code}: ${f.message} at ${f.path.join('.')}`),
    [],
    spectral.stderr,
  );
  assert.equal(spectral.exitCode, 0, spectral.stderr);

  const redocly = await execa(
    path.join(BIN, 'redocly'),
    ['lint', '--config', 'redocly.yaml', '--format', 'json', DOCUMENT],
    { cwd: ROOT, reject: false, env: { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
  );
  const report = JSON.parse(redocly.stdout) as { problems: Array<{ ruleId: string; message: string }> };
  assert.deepEqual(
    report.problems.map((p) => `${p.ruleId}: ${p.message}`),
    [],
    'no errors and no warnings',
  );
  assert.equal(redocly.exitCode, 0);
});

// Prism proxies each request to the API and reports what disagrees with the
// document in an `sl-violations` header.
async function startPrism(upstream: string): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const child = spawn(
    path.join(BIN, 'prism'),
    ['proxy', DOCUMENT, upstream, '--port', String(port), '--host', '127.0.0.1'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (/Prism is listening/.test(line)) resolve();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`prism exited with ${code}: ${output.slice(-2000)}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

type Violation = { location: string[]; severity: string; message: string; code?: string };

test("through Prism's validating proxy, every response of the main flows matches the document", async (t) => {
  const system = await startSystem({ worker: true, fixture: 'fail' });
  await mkdir(path.dirname(DOCUMENT), { recursive: true });
  await writeFile(DOCUMENT, JSON.stringify(await servedDocument(system), null, 2));
  const prism = await startPrism(system.baseUrl);
  t.after(() => prism.stop());

  const checked: string[] = [];
  const problems: string[] = [];
  async function call(
    method: string,
    url: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== '') headers.authorization = `Bearer ${options.token ?? TOKENS.admin}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${prism.url}${url}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    const violations = JSON.parse(res.headers.get('sl-violations') ?? '[]') as Violation[];
    for (const v of violations.filter((v) => v.location[0] === 'response')) {
      problems.push(`${method} ${url} → ${res.status}: ${v.message} at ${v.location.join('.')}`);
    }
    checked.push(`${method} ${url} → ${res.status}`);
    // biome-ignore lint/suspicious/noExplicitAny: a response body as the assertions walk it
    const body: any = text.startsWith('{') ? JSON.parse(text) : text;
    return { status: res.status, body };
  }

  // The fail fixture fails every stack's first create (after making its
  // instances), and its retry succeeds: both ends of a job are seen.
  const created = await call('POST', '/api/ec2instance', {
    body: { node_count: 1, tags: { team: 'platform' } },
    headers: { prefer: 'wait=60' },
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  assert.equal(created.body.status, 'failed');
  const id: string = created.body.id;
  const retried = await call('POST', `/api/ec2instance/${id}/retry`, { headers: { prefer: 'wait=60' } });
  assert.equal(retried.body.status, 'ready', JSON.stringify(retried.body));
  const accepted = await call('POST', '/api/ec2instance', {
    body: { tags: { Équipe: 'données' }, ttl: '2h' },
    headers: { 'idempotency-key': '"c-1"' },
  });
  assert.equal(accepted.status, 202);
  assert.equal(
    (
      await call('POST', '/api/ec2instance', {
        body: { tags: { Équipe: 'données' }, ttl: '2h' },
        headers: { 'idempotency-key': '"c-1"' },
      })
    ).status,
    202,
  );
  await system.waitForJob(accepted.body.job.id);

  await call('GET', `/api/ec2instance/${id}`);
  await call('GET', '/api/ec2instance?limit=2');
  await call('GET', '/api/ec2instance?status=ready&limit=100');
  await call('GET', `/api/jobs/${created.body.job.id}`);
  await call('GET', `/api/jobs/${retried.body.job.id}`);
  await call('GET', `/api/jobs/${created.body.job.id}/log`);
  assert.equal((await call('POST', `/api/jobs/${created.body.job.id}/cancel`)).status, 409);
  assert.equal((await call('POST', `/api/ec2instance/${id}/retry`)).status, 409);

  // Errors: every one a problem+json the document describes.
  assert.equal((await call('POST', '/api/ec2instance', { body: { node_count: 99 } })).status, 400);
  assert.equal((await call('GET', '/api/ec2instance/not-an-id')).status, 400);
  assert.equal((await call('GET', '/api/ec2instance/0000000000000000')).status, 404);
  assert.equal((await call('GET', '/api/jobs/0000000000000000')).status, 404);
  assert.equal((await call('GET', '/api/ec2instance', { token: '' })).status, 401);
  assert.equal((await call('DELETE', `/api/ec2instance/${id}`, { token: TOKENS.reader })).status, 403);

  const deleting = await call('DELETE', `/api/ec2instance/${id}`);
  assert.equal(deleting.status, 202);
  assert.equal(
    (await call('DELETE', `/api/ec2instance/${accepted.body.id}`, { headers: { prefer: 'wait=60' } })).status,
    200,
  );
  await system.waitForJob(deleting.body.job.id);
  assert.equal((await call('GET', `/api/ec2instance/${id}`)).body.status, 'deleted');

  await call('GET', '/healthz', { token: '' });
  await call('GET', '/readyz', { token: '' });
  await call('GET', '/metrics', { token: '' });

  t.diagnostic(`prism checked ${checked.length} responses`);
  assert.deepEqual(problems, [], `responses that disagree with the document:\n${problems.join('\n')}`);
});
