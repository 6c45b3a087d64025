// The tools around the events: `npm run events -- preview | schema`, and the
// example receiver in scripts/webhook-receiver.ts, run as users run them.
import assert from 'node:assert/strict';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { execa } from 'execa';
import { Webhook } from 'standardwebhooks';
import { freePort } from './support/local-services.ts';
import { ROOT, useSystems } from './support/harness.ts';
import { EVENTS_ENV, Receiver } from './support/receiver.ts';

const [startSystem] = useSystems();

function tool(env: Record<string, string>, args: string[]) {
  return execa(process.execPath, [path.join(ROOT, 'scripts', 'events.ts'), ...args], {
    reject: false,
    env,
    extendEnv: false,
  });
}

test('events preview prints, for every type, the signed request a delivery sends, with the source real deliveries carry; schema prints the schemas', async (t) => {
  const system = await startSystem({ worker: true, env: EVENTS_ENV });
  const receiver = await new Receiver().start();
  t.after(() => receiver.stop());
  const webhook = (await system.http().post('/api/webhooks').send({ url: receiver.url })).body;
  await system.http().post(`/api/webhooks/${webhook.id}/ping`);
  await receiver.waitFor((requests) => requests.length > 0, 'the ping');

  const schema = await tool(system.env, ['schema']);
  assert.equal(schema.exitCode, 0, schema.stderr);
  const schemas = JSON.parse(schema.stdout) as Record<string, { data: object }>;
  assert.equal(Object.keys(schemas).length, 18);

  const preview = await tool(system.env, ['preview', '--webhook', webhook.id]);
  assert.equal(preview.exitCode, 0, preview.stderr);
  const sections = preview.stdout.split(/^## /m).slice(1);
  assert.deepEqual(
    sections.map((s) => s.split('\n')[0]),
    Object.keys(schemas),
  );
  const ajv = new Ajv2020({ strict: false });
  for (const section of sections) {
    const [head, body] = section.split('\n\n') as [string, string];
    const [type, requestLine, ...headerLines] = head.split('\n');
    assert.equal(requestLine, `POST ${receiver.url}`);
    const headers = Object.fromEntries(
      headerLines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
    );
    const event = new Webhook(webhook.secret).verify(body.trimEnd(), headers) as {
      type: string;
      source: string;
      data: unknown;
    };
    assert.equal(event.type, type);
    assert.equal(event.source, receiver.requests[0]!.event.source, 'the configured source');
    assert.equal(headers['content-type'], 'application/cloudevents+json');
    assert.ok(ajv.validate(schemas[type!]!.data, event.data), `${type}: ${JSON.stringify(ajv.errors)}`);
  }

  const usage = await tool(system.env, ['nonsense']);
  assert.equal(usage.exitCode, 2);
  assert.match(usage.stderr, /usage: npm run events -- preview/);
});

test('the example receiver processes each signed event once, and refuses a request that is not signed with its secret', async (t) => {
  const system = await startSystem({ worker: true, env: EVENTS_ENV });
  const port = await freePort();
  const registered = await system
    .http()
    .post('/api/webhooks')
    .send({ url: `http://127.0.0.1:${port}/` });
  const child = execa(process.execPath, [path.join(ROOT, 'scripts', 'webhook-receiver.ts')], {
    env: { WEBHOOK_SECRET: registered.body.secret, PORT: String(port) },
    reject: false,
  });
  t.after(async () => {
    child.kill('SIGTERM');
    await child;
  });
  const lines: Array<{ id: string; type: string }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  while (!stderr.includes('listening')) await new Promise((resolve) => child.stderr!.once('data', resolve));

  const ping = await system.http().post(`/api/webhooks/${registered.body.id}/ping`);
  const deadline = Date.now() + 30_000;
  const delivered = async (id: string) => {
    for (;;) {
      const d = (await system.http().get(`/api/webhooks/${registered.body.id}/deliveries/${id}`)).body;
      if (d.status !== 'pending' || Date.now() > deadline) return d;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  assert.equal((await delivered(ping.body.id)).status, 'succeeded');
  const again = await system.http().post(`/api/webhooks/${registered.body.id}/deliveries/${ping.body.id}/redeliver`);
  const second = await delivered(again.body.id);
  assert.equal(second.status, 'succeeded');
  assert.equal(second.attempts[0].status_code, 200, 'a duplicate is acknowledged');
  assert.equal(lines.length, 1, 'and processed once');
  assert.equal(lines[0]?.type, 'io.tfcompute.webhook.ping');
  assert.match(stderr, /duplicate/);

  const secret = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
  const body = JSON.stringify({ id: 'evt_forged', type: 'io.tfcompute.stack.deleted' });
  const at = new Date();
  const forged = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    body,
    headers: {
      'webhook-id': 'evt_forged',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': secret.sign('evt_forged', at, body),
    },
  });
  assert.equal(forged.status, 401);
  const stale = new Date(Date.now() - 10 * 60_000);
  const replayed = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    body,
    headers: {
      'webhook-id': 'evt_old',
      'webhook-timestamp': String(Math.floor(stale.getTime() / 1000)),
      'webhook-signature': new Webhook(registered.body.secret).sign('evt_old', stale, body),
    },
  });
  assert.equal(replayed.status, 401, 'a signed request older than five minutes is refused');
  assert.equal(lines.length, 1);
});
