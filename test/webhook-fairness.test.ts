// One client must not starve the rest of the webhooks: a cap on how many
// there are, a share of the delivery slots per webhook, and a circuit
// breaker that stops sending to a receiver that fails every attempt.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { loadConfig } from '../core/config.ts';
import { DeliveryShares } from '../worker/webhooks/delivery-shares.ts';
import { FaultProxy } from './support/fault-proxy.ts';
import { assertProblem, useSystems, type TestSystem } from './support/harness.ts';
import { EVENTS_ENV, Receiver, type Received } from './support/receiver.ts';

const [startSystem] = useSystems();

async function receiver(t: TestContext): Promise<Receiver> {
  const r = await new Receiver().start();
  t.after(() => r.stop());
  return r;
}

async function behindProxy(t: TestContext): Promise<{ receiver: Receiver; proxy: FaultProxy; url: string }> {
  const r = await receiver(t);
  const proxy = new FaultProxy(r.url);
  const base = await proxy.start();
  t.after(() => proxy.stop());
  return { receiver: r, proxy, url: `${base}/hook` };
}

async function register(system: TestSystem, url: string): Promise<string> {
  const res = await system.http().post('/api/webhooks').send({ url });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

async function ping(system: TestSystem, webhookId: string): Promise<string> {
  const res = await system.http().post(`/api/webhooks/${webhookId}/ping`);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.id;
}

type Circuit = { state: string; until: string | null; reason: string | null; changed_at: string | null };
type Delivery = { id: string; status: string; attempts: unknown[]; event: { type: string } };

// Reads `read` every 100 ms until `done` holds of it.
async function readUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function circuitOf(system: TestSystem, webhookId: string): Promise<Circuit> {
  const res = await system.http().get(`/api/webhooks/${webhookId}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.circuit;
}

// The deliveries of stack events (not pings) to the webhook.
async function eventDeliveries(system: TestSystem, webhookId: string): Promise<Delivery[]> {
  const items: Delivery[] = (await system.http().get(`/api/webhooks/${webhookId}/deliveries?limit=100`)).body.items;
  return items.filter((d) => d.event.type !== 'io.tfcompute.webhook.ping');
}

async function held(system: TestSystem, webhookId: string): Promise<string[]> {
  return system.redis.smembers(`${system.config.redisPrefix}:wh:${webhookId}:held`);
}

async function createStack(system: TestSystem): Promise<string> {
  const res = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 1 });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id;
}

// The most requests a receiver that answers after `answerMs` was answering at once.
function mostAtOnce(requests: Received[], answerMs: number): number {
  return Math.max(0, ...requests.map((r) => requests.filter((q) => q.at <= r.at && r.at < q.at + answerMs).length));
}

describe('the cap on webhooks', () => {
  test('beyond WEBHOOK_LIMIT a registration is 409 webhook-limit-reached and stores nothing; ten racing for the last place, one wins', async () => {
    const system = await startSystem({ env: { ...EVENTS_ENV, WEBHOOK_LIMIT: '3' } });
    const register = () => system.http().post('/api/webhooks').send({ url: 'http://127.0.0.1:9/hook' });
    for (let i = 0; i < 2; i += 1) assert.equal((await register()).status, 201);
    const racing = await Promise.all(Array.from({ length: 10 }, register));
    assert.deepEqual(
      racing.map((res) => res.status).sort(),
      [201, ...Array<number>(9).fill(409)],
      'exactly one took the last place',
    );
    for (const refused of racing.filter((res) => res.status === 409)) {
      assertProblem(refused, 409, 'webhook-limit-reached');
      assert.match(refused.body.detail, /WEBHOOK_LIMIT=3/);
    }
    assert.equal((await system.http().get('/api/webhooks?limit=100')).body.items.length, 3);
    const stored = await system.redis.keys(`${system.config.redisPrefix}:wh:*`);
    assert.equal(
      stored.filter((key) => /:wh:w[0-9a-z]{15}$/.test(key)).length,
      3,
      'no webhook record beyond the three',
    );
    const deleted = (await system.http().get('/api/webhooks')).body.items[0].id;
    assert.equal((await system.http().delete(`/api/webhooks/${deleted}`)).status, 204);
    assert.equal((await register()).status, 201, 'a deleted webhook frees its place');
  });
});

describe('a share of the delivery slots per webhook', () => {
  test('is a quarter of the slots by default, at least one, and never more than all of them; a slot given back twice counts once', () => {
    const share = (env: Record<string, string>) => loadConfig(env).webhooks.concurrencyPerWebhook;
    assert.deepEqual(
      [
        share({}),
        share({ WEBHOOK_DELIVERY_CONCURRENCY: '3' }),
        share({ WEBHOOK_DELIVERY_CONCURRENCY: '4', WEBHOOK_DELIVERY_CONCURRENCY_PER_WEBHOOK: '9' }),
      ],
      [4, 1, 4],
    );
    const shares = new DeliveryShares(2);
    const [a, b] = [shares.take('w1'), shares.take('w1')];
    assert.ok(a && b);
    assert.equal(shares.take('w1'), undefined, 'the webhook has its share');
    assert.ok(shares.take('w2'), 'another webhook has its own');
    a();
    a();
    assert.ok(shares.take('w1'), 'one slot came back');
    assert.equal(shares.take('w1'), undefined, 'and only one');
  });

  test("a receiver that takes 3 s to answer holds one of two slots, and another webhook's ping arrives at once", async (t) => {
    const system = await startSystem({
      worker: true,
      env: { ...EVENTS_ENV, WEBHOOK_DELIVERY_CONCURRENCY: '2', WEBHOOK_DELIVERY_CONCURRENCY_PER_WEBHOOK: '1' },
    });
    const slow = await receiver(t);
    const healthy = await receiver(t);
    const ANSWER_MS = 3_000;
    slow.answer = () => ({ status: 204, delayMs: ANSWER_MS });
    const [slowId, healthyId] = [await register(system, slow.url), await register(system, healthy.url)];
    for (let i = 0; i < 3; i += 1) await ping(system, slowId);
    await slow.waitFor((requests) => requests.length >= 1, 'the first slow ping');
    const asked = Date.now();
    await ping(system, healthyId);
    await healthy.waitFor((requests) => requests.length === 1, 'the healthy ping');
    const took = healthy.requests[0]!.at - asked;
    await slow.waitFor((requests) => requests.length >= 2, 'the second slow ping');
    const most = mostAtOnce(slow.requests, ANSWER_MS);
    t.diagnostic(
      `healthy ping arrived ${took} ms after it was asked for; at most ${most} deliveries at once to the slow receiver`,
    );
    assert.equal(most, 1, 'the slow receiver never had more than its share');
    assert.ok(took < 1_500, `the healthy ping waited ${took} ms`);
  });
});

describe('the circuit breaker', () => {
  test('a receiver that is down opens the circuit after 3 failed attempts; nothing more reaches it; a ping once it is back closes it, and the held deliveries arrive', async (t) => {
    const system = await startSystem({
      worker: true,
      env: { ...EVENTS_ENV, WEBHOOK_CIRCUIT_FAILURES: '3', WEBHOOK_CIRCUIT_OPEN_SECONDS: '3600' },
    });
    const { receiver: r, proxy, url } = await behindProxy(t);
    const webhookId = await register(system, url);
    assert.deepEqual(await circuitOf(system, webhookId), {
      state: 'closed',
      until: null,
      reason: null,
      changed_at: null,
    });
    proxy.set({ kind: 'down' });
    await createStack(system);
    const open = await readUntil(
      () => circuitOf(system, webhookId),
      (c) => c.state === 'open',
      'the circuit is not open',
    );
    assert.match(open.reason ?? '', /^3 attempts in a row failed, the last: could not reach the receiver/);
    assert.ok(Date.parse(open.until ?? '') > Date.now() + 3_500_000, 'open for an hour');
    const first = await readUntil(
      () => eventDeliveries(system, webhookId),
      (ds) => ds.length === 5,
      'five deliveries',
    );
    await readUntil(
      () => held(system, webhookId),
      (ids) => first.every((d) => ids.includes(d.id)),
      "the first stack's deliveries are not all held",
    );
    const connections = proxy.connections.down;

    await createStack(system);
    const all = await readUntil(
      () => eventDeliveries(system, webhookId),
      (ds) => ds.length === 10,
      'ten deliveries',
    );
    const later = all.filter((d) => !first.some((f) => f.id === d.id));
    await readUntil(
      () => held(system, webhookId),
      (ids) => later.every((d) => ids.includes(d.id)),
      "the second stack's deliveries are not all held",
    );
    assert.equal(proxy.connections.down, connections, 'no attempt reached the receiver while the circuit was open');
    assert.deepEqual(
      (await eventDeliveries(system, webhookId))
        .filter((d) => later.some((l) => l.id === d.id))
        .map((d) => [d.status, d.attempts.length]),
      later.map(() => ['pending', 0]),
      'held, not failed, and no attempt used',
    );

    proxy.set({ kind: 'none' });
    const asked = Date.now();
    await ping(system, webhookId);
    await r.waitFor(
      () => r.events().filter((e) => e.type !== 'io.tfcompute.webhook.ping').length === 10,
      'the ten held events',
    );
    t.diagnostic(
      `circuit opened after ${connections} connections; the ten held events arrived ${Date.now() - asked} ms after the ping`,
    );
    const closed = await circuitOf(system, webhookId);
    assert.equal(closed.state, 'closed');
    assert.ok(Date.parse(closed.changed_at ?? '') >= Date.parse(open.changed_at ?? ''));
    assert.deepEqual(await held(system, webhookId), []);
  });

  test('an open circuit half-opens by itself after WEBHOOK_CIRCUIT_OPEN_SECONDS: a failed trial opens it again, a successful one closes it', async (t) => {
    const system = await startSystem({
      worker: true,
      env: { ...EVENTS_ENV, WEBHOOK_CIRCUIT_FAILURES: '3', WEBHOOK_CIRCUIT_OPEN_SECONDS: '2' },
    });
    const { receiver: r, proxy, url } = await behindProxy(t);
    const webhookId = await register(system, url);
    proxy.set({ kind: 'down' });
    await createStack(system);
    const open = await readUntil(
      () => circuitOf(system, webhookId),
      (c) => c.state === 'open',
      'the circuit is not open',
    );
    const reopened = await readUntil(
      () => circuitOf(system, webhookId),
      (c) => c.changed_at !== open.changed_at,
      'the circuit did not change',
    );
    assert.equal(reopened.state, 'open');
    assert.match(reopened.reason ?? '', /^the trial attempt after the pause failed: could not reach the receiver/);
    proxy.set({ kind: 'none' });
    await r.waitFor(() => r.events().length === 5, 'the five held events');
    assert.equal(
      (await circuitOf(system, webhookId)).state,
      'closed',
      'closed by the trial that succeeded, with no ping',
    );
  });
});
