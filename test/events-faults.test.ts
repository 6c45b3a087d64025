// A receiver that is down, slow (5 s latency) or resets the connection
// mid-answer, behind the fault-injecting proxy: the stacks' jobs go on as if
// there were no webhook (they are all ready while no delivery has got
// through), and once the receiver heals every event arrives, signed, with
// its id. A worker SIGKILLed after changes were recorded, a dispatcher that
// died holding events, and a Redis restart lose none either.
// (How long a batch takes with and without such a receiver is measured by
// `npm run bench`, section 6.)
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { FaultProxy, type Toxic } from './support/fault-proxy.ts';
import { startRedis } from './support/local-services.ts';
import { useSystems, type TestSystem } from './support/harness.ts';
import { EVENTS_ENV, Receiver } from './support/receiver.ts';

const [startSystem] = useSystems();
const BATCH = 4;

async function behindProxy(t: TestContext): Promise<{ receiver: Receiver; proxy: FaultProxy; url: string }> {
  const receiver = await new Receiver().start();
  const proxy = new FaultProxy(receiver.url);
  const base = await proxy.start();
  t.after(async () => {
    await proxy.stop();
    await receiver.stop();
  });
  return { receiver, proxy, url: `${base}/hook` };
}

async function register(system: TestSystem, url: string): Promise<string> {
  const res = await system.http().post('/api/webhooks').send({ url });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.secret;
}

async function batch(system: TestSystem, n = BATCH): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const res = await system.http().post('/api/ec2instance').send({ node_count: 1 });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    ids.push(res.body.id);
  }
  for (const id of ids) await system.waitForStackStatus(id, 'ready', 60_000);
  return ids;
}

// Every event the outbox holds for these stacks reached the receiver (each
// signed, with the id it was recorded with); returns how many requests
// were duplicates of an event already received.
async function everyEventArrives(
  system: TestSystem,
  receiver: Receiver,
  secret: string,
  ids: string[],
): Promise<{ events: number; duplicates: number }> {
  const subjects = new Set(ids);
  const recorded = (await system.store.outbox.entries())
    .filter((e) => subjects.has(e.subject))
    .map((e) => `evt_${e.entryId}`);
  await receiver.waitFor(
    () => {
      const got = new Set(receiver.events().map((e) => e.id));
      return recorded.every((id) => got.has(id));
    },
    `all ${recorded.length} events`,
    60_000,
  );
  const verifier = new Webhook(secret);
  for (const request of receiver.requests) verifier.verify(request.body, request.headers);
  const ofBatch = receiver.requests.filter((r) => subjects.has(r.event.subject));
  return { events: recorded.length, duplicates: ofBatch.length - new Set(ofBatch.map((r) => r.event.id)).size };
}

describe('a receiver that fails never holds up a stack', () => {
  const faults: Array<[string, Toxic]> = [
    ['down', { kind: 'down' }],
    ['5 s of latency', { kind: 'latency', ms: 5_000 }],
    ['reset mid-response', { kind: 'reset_mid_response' }],
  ];
  for (const [name, toxic] of faults) {
    test(`${name}: every stack is ready while no delivery has got through, and every event arrives once it heals`, async (t) => {
      const system = await startSystem({ worker: true, env: EVENTS_ENV });
      const { receiver, proxy, url } = await behindProxy(t);
      const secret = await register(system, url);
      proxy.set(toxic);
      const started = performance.now();
      const ids = await batch(system);
      const took = performance.now() - started;
      const answered = receiver.requests.length;
      if (toxic.kind !== 'reset_mid_response')
        assert.equal(answered, 0, 'no delivery had got through when the batch was ready');
      const deliveries = (await system.store.webhooks.all())[0]!;
      const attempted = (await system.store.webhooks.listDeliveries(deliveries.id, 100)).items.filter(
        (d) => d.attempts.length > 0,
      ).length;
      proxy.set({ kind: 'none' });
      const { events, duplicates } = await everyEventArrives(system, receiver, secret, ids);
      assert.equal(events, BATCH * 5, 'five events per created stack');
      t.diagnostic(
        `webhook ${name}: batch of ${BATCH} ready in ${Math.round(took)} ms; ${attempted} deliveries attempted meanwhile; ${events} events arrived after healing, ${duplicates} duplicates; proxy connections ${JSON.stringify(proxy.connections)}`,
      );
    });
  }
});

describe('events survive what the jobs survive', () => {
  test('a worker SIGKILLed after changes were recorded, with deliveries pending: a new worker delivers every event', async (t) => {
    const system = await startSystem({ env: EVENTS_ENV });
    const { receiver, proxy, url } = await behindProxy(t);
    const secret = await register(system, url);
    proxy.set({ kind: 'down' });
    const doomed = await system.spawnWorker();
    const ids = await batch(system, 2);
    await doomed.signal('SIGKILL');
    proxy.set({ kind: 'none' });
    await system.startWorker();
    const { events, duplicates } = await everyEventArrives(system, receiver, secret, ids);
    t.diagnostic(`SIGKILL: ${events} events arrived, ${duplicates} duplicates`);
  });

  test('events a dispatcher took and never acknowledged (it died) are claimed and delivered by another', async (t) => {
    const system = await startSystem({ env: EVENTS_ENV });
    const { receiver, url } = await behindProxy(t);
    const secret = await register(system, url);
    const created = await system.http().post('/api/ec2instance').send({ node_count: 1 });
    // A dispatcher that read the events and died before it handed them on.
    await system.store.outbox.ensureGroup();
    const taken = await system.store.outbox.readNew(system.redis, 'dead-dispatcher', 100, 100);
    assert.deepEqual(
      taken.map((e) => e.type),
      ['io.tfcompute.job.queued', 'io.tfcompute.stack.creating'],
    );
    await system.startWorker();
    await system.waitForStackStatus(created.body.id, 'ready', 60_000);
    const { events } = await everyEventArrives(system, receiver, secret, [created.body.id]);
    assert.equal(events, 5);
  });

  test('Redis restarted (append-only file) while deliveries wait: every event arrives after', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-events-aof-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    let redis = await startRedis(dir, { appendonly: true });
    t.after(() => redis.stop());
    const system = await startSystem({ worker: true, env: { ...EVENTS_ENV, REDIS_URL: redis.url } });
    const { receiver, proxy, url } = await behindProxy(t);
    const secret = await register(system, url);
    proxy.set({ kind: 'down' });
    const ids = await batch(system, 2);
    await redis.stop();
    redis = await startRedis(dir, { port: redis.port, appendonly: true });
    proxy.set({ kind: 'none' });
    // As an orchestrator would: wait for the API to be ready again.
    while ((await system.http().get('/readyz')).status !== 200)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await batch(system, 1);
    const { events, duplicates } = await everyEventArrives(system, receiver, secret, [...ids, ...after]);
    t.diagnostic(`Redis restart: ${events} events arrived, ${duplicates} duplicates`);
  });
});
