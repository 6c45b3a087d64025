// Redis fails over under load: a primary, its replica and three sentinels on
// loopback, the API and a worker following them (REDIS_SENTINELS, with
// REDIS_WAIT_REPLICAS=1), a batch of 50 creates and deletes in flight, and the
// primary killed with SIGKILL. What a client was told (a 202) still holds
// afterwards: every stack settles, none is applied twice, no workspace is
// left behind, and the webhook receiver gets every event, under one id each,
// whatever the delivery retries.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import request from 'supertest';
import { startApi } from '../api/server.ts';
import { loadConfig } from '../core/config.ts';
import { eventId } from '../core/events/cloud-event.ts';
import { firstDeliveryId } from '../core/webhooks/deliveries.ts';
import { createDeliveryQueue } from '../core/queue.ts';
import { createLogger } from '../core/logger.ts';
import type { Stack } from '../core/schemas/index.ts';
import { startServices, TestSystem, TOKENS, type Services } from './support/harness.ts';
import { EVENTS_ENV, Receiver } from './support/receiver.ts';
import { SENTINEL_NAME, startSentinelSet, type SentinelSet } from './support/redis-topology.ts';

const CREATES = 30;
// Of the creates, the first DELETES are deleted as soon as they are
// accepted: 50 requests in all.
const DELETES = 20;
// The primary is killed once this many requests have been answered.
const KILL_AFTER = 15;

let services: Services;
let sentinels: SentinelSet;
let receiver: Receiver;
let system: TestSystem;

before(async () => {
  services = await startServices();
  sentinels = await startSentinelSet(path.join(services.dir, 'sentinel'));
  receiver = await new Receiver().start();
  system = new TestSystem(services, {
    // Each apply and destroy records an overlap, and each apply that makes the stack's instance a line (test/fixtures/probe).
    fixture: 'probe',
    concurrency: 4,
    env: {
      ...EVENTS_ENV,
      REDIS_SENTINELS: sentinels.setting,
      REDIS_SENTINEL_NAME: SENTINEL_NAME,
      REDIS_WAIT_REPLICAS: '1',
    },
  });
  await system.startApi();
  await system.startWorker();
});

after(async () => {
  await system?.stop();
  await receiver?.stop();
  await sentinels?.stop();
  await services?.stop();
});

test('WAIT for one replica costs each write request a round trip to the replica (measured beside an API without it)', async (t) => {
  const plain = await startApi(loadConfig({ ...system.env, REDIS_WAIT_REPLICAS: '0' }), createLogger('silent', 'api'));
  t.after(() => plain.stop());
  const bases = { wait: system.baseUrl, plain: `http://127.0.0.1:${plain.port}` };
  const took: Record<keyof typeof bases, number[]> = { wait: [], plain: [] };
  for (let i = 0; i < 40; i += 1) {
    const which = i % 2 === 0 ? 'wait' : 'plain';
    const started = performance.now();
    const res = await request(bases[which])
      .post('/api/webhooks')
      .set('Authorization', `Bearer ${TOKENS.admin}`)
      .send({ url: `${receiver.url}/cost-${i}` });
    took[which].push(performance.now() - started);
    assert.equal(res.status, 201, res.text);
    await system.http().delete(`/api/webhooks/${res.body.id}`).expect(204);
  }
  const median = (ms: number[]) => ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)] ?? 0;
  t.diagnostic(
    `POST /api/webhooks median latency: with REDIS_WAIT_REPLICAS=1 ${median(took.wait).toFixed(1)} ms, without ${median(took.plain).toFixed(1)} ms (20 each, interleaved)`,
  );
});

test('with the primary SIGKILLed under 50 creates and deletes, every accepted request settles, nothing is applied twice or left behind, and no event is lost or doubled', async (t) => {
  const hook = await system.http().post('/api/webhooks').send({ url: receiver.url });
  assert.equal(hook.status, 201, hook.text);

  // A client that retries what Redis's absence refused (503) or cut off,
  // with the same Idempotency-Key, as a client should.
  let retried = 0;
  let answered = 0;
  let killedAt = 0;
  let recoveredAt = 0;
  let killed: Promise<void> | undefined;
  async function send(make: () => request.Test): Promise<request.Response> {
    for (;;) {
      const sentAt = performance.now();
      const res = await make()
        .timeout(10_000)
        .catch(() => undefined);
      if (res && res.status !== 503) {
        answered += 1;
        // The first write sent after the kill that succeeded: Redis is back.
        if (killedAt && sentAt > killedAt && !recoveredAt && res.status < 300) recoveredAt = performance.now();
        if (answered === KILL_AFTER && !killed) {
          killed = kill();
          // Awaited once the batch is answered; meanwhile a failure is not unhandled.
          killed.catch(() => undefined);
        }
        return res;
      }
      retried += 1;
      // A retrying client's back-off, not a wait for a condition.
      await delay(100);
    }
  }
  let killedWallClock = 0;
  let switched = '';
  let replicaBackAt = 0;
  // The kill, the failover as a sentinel saw it, and the old primary back
  // as a supervisor would restart it: Sentinel makes it a replica, so that
  // WAIT has a replica again (until then each change waits WAIT's full second).
  async function kill(): Promise<void> {
    killedAt = performance.now();
    killedWallClock = Date.now();
    await sentinels.primary.stop('SIGKILL');
    switched = (await sentinels.sentinels[0]?.waitForLine(/\+switch-master/)) ?? '';
    const restarted = await sentinels.restartPrimary();
    await restarted.waitForLine(/MASTER <-> REPLICA sync: Finished with success/);
    replicaBackAt = performance.now();
  }

  const accepted: Array<{ id: string; deleted: boolean }> = [];
  const create = async (i: number) => {
    const res = await send(() =>
      system.http().post('/api/ec2instance').set('Idempotency-Key', `"failover-${i}"`).send({}),
    );
    assert.equal(res.status, 202, res.text);
    const stack = { id: res.body.id as string, deleted: i < DELETES };
    accepted.push(stack);
    if (!stack.deleted) return;
    const deleted = await send(() => system.http().delete(`/api/ec2instance/${stack.id}`));
    assert.ok([200, 202].includes(deleted.status), deleted.text);
  };
  // Five clients at a time.
  const next = { i: 0 };
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      while (next.i < CREATES) await create(next.i++);
    }),
  );
  const answeredAt = performance.now();
  await killed;
  assert.ok(killedAt > 0, 'the primary was killed while requests were in flight');
  assert.equal(accepted.length, CREATES);

  assert.match(switched, new RegExp(`${SENTINEL_NAME} 127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${sentinels.replica.port}`));
  const since = () => `${((performance.now() - killedAt) / 1000).toFixed(1)} s`;
  const phases = [
    `requests answered ${((answeredAt - killedAt) / 1000).toFixed(1)} s`,
    `replica back ${((replicaBackAt - killedAt) / 1000).toFixed(1)} s`,
  ];

  const settled = new Map<string, Stack>();
  for (const stack of accepted) {
    const done = (r: Stack) => (stack.deleted ? r.status === 'deleted' : ['ready', 'failed'].includes(r.status));
    settled.set(
      stack.id,
      await system.waitForStack(stack.id, done, 60_000, stack.deleted ? 'not deleted' : 'not settled'),
    );
  }
  for (const [id, stack] of settled) {
    if (stack.status === 'failed') assert.ok(stack.error, `${id} failed without a reason`);
  }
  phases.push(`settled ${since()}`);
  const live = [...settled].filter(([, r]) => r.status !== 'deleted').map(([id]) => id);

  // No stack applied twice: never two Terraform runs at once in a
  // workspace, each stack's instance made at most once, and each live
  // stack's state holds its one instance.
  const markers = await readdir(services.dir);
  assert.deepEqual(
    markers.filter((name) => name.startsWith('overlap-')),
    [],
    'Terraform never ran twice at once in one workspace',
  );
  for (const { id } of accepted) {
    const made = await readFile(path.join(services.dir, `made-${id}`), 'utf8').catch(() => '');
    assert.ok(
      made.split('\n').filter(Boolean).length <= 1,
      `${id}: its instance was made ${made.split('\n').filter(Boolean).length} times`,
    );
  }
  for (const id of live)
    assert.deepEqual(
      (await system.stateAddresses(id)).filter((a) => a.startsWith('terraform_data.instance')),
      ['terraform_data.instance[0]'],
      id,
    );

  // No workspace orphaned: the bucket holds exactly the live stacks' states.
  const workspaces = (await services.backend.listStateKeys()).map((key) => key.split('/')[1]).sort();
  assert.deepEqual(workspaces, [...live].sort());

  // Every event once: each (subject, sequence) of the outbox reached the
  // receiver, under one id, and nothing else did. (The CloudEvent's
  // sequence is the outbox's, zero-padded.)
  const outbox = await system.store.outbox.entries();
  const expected = new Set(outbox.filter((e) => settled.has(e.subject)).map((e) => `${e.subject}#${e.sequence}`));
  const have = () => new Set(receiver.events().map((e) => `${e.subject}#${Number(e.sequence)}`));
  await receiver
    .waitFor(() => [...expected].every((k) => have().has(k)), `${expected.size} events`, 30_000)
    .catch(async (error: Error) => {
      const missing = outbox.filter(
        (e) => !have().has(`${e.subject}#${e.sequence}`) && expected.has(`${e.subject}#${e.sequence}`),
      );
      throw new Error(
        `${error.message}; missing: ${JSON.stringify(await Promise.all(missing.map((e) => whereIs(e, hook.body.id))))}`,
      );
    });
  phases.push(`delivered ${since()}`);
  const received = receiver
    .events()
    .filter((e) => settled.has(e.subject))
    .map((e) => `${e.subject}#${Number(e.sequence)}`);
  assert.equal(received.length, new Set(received).size, 'an event was delivered again under a new id');
  assert.deepEqual(new Set(received), expected);
  await system.assertEventsMatchRecords();

  const runs = new Map<string, number>();
  for (const e of outbox.filter((entry) => entry.type === 'io.tfcompute.job.running')) {
    const jobId = (JSON.parse(e.data) as { job: { id: string } }).job.id;
    runs.set(jobId, (runs.get(jobId) ?? 0) + 1);
  }
  const jobsRetried = [...runs.values()].filter((n) => n > 1).length;
  const ids = receiver.requests.map((r) => r.headers['webhook-id']);
  const duplicates = ids.length - new Set(ids).size;
  // Sentinel stamps its log lines to the millisecond, in this machine's time zone.
  const switchedAt = new Date(/\d\d \w{3} \d{4} [\d:.]+/.exec(switched)?.[0] ?? '').getTime();
  t.diagnostic(
    `failover: Sentinel switched the primary ${((switchedAt - killedWallClock) / 1000).toFixed(1)} s after the SIGKILL; first successful write ${((recoveredAt - killedAt) / 1000).toFixed(1)} s after it; requests retried by the client ${retried}; jobs that ran more than once ${jobsRetried} of ${runs.size}; stacks ready ${live.length}, deleted ${accepted.length - live.length}; deliveries ${receiver.requests.length} for ${new Set(ids).size} events (${duplicates} duplicates by webhook-id); after the SIGKILL: ${phases.join(', ')}`,
  );
});

// Where the delivery of an event that did not arrive stands: its record and its BullMQ job.
async function whereIs(
  entry: { entryId: string; subject: string; sequence: number; type: string },
  webhookId: string,
): Promise<Record<string, unknown>> {
  const deliveries = createDeliveryQueue(system.redis, system.config.redisPrefix);
  try {
    const id = firstDeliveryId(eventId(entry.entryId), webhookId);
    const job = await deliveries.getJob(id);
    const record = await system.store.webhooks.getDelivery(id);
    return {
      event: `${entry.subject}#${entry.sequence} ${entry.type}`,
      record: record?.status,
      job: await deliveries.getJobState(id),
      stalled: job?.stalledCounter,
      reason: job?.failedReason,
    };
  } finally {
    await deliveries.close();
  }
}
