// tfcompute on a real three-primary Redis Cluster started on loopback
// (REDIS_CLUSTER_NODES): every key under the hash tag {REDIS_PREFIX}, so the
// store's multi-key scripts and BullMQ's run in one slot: create, update
// with approval, delete and webhooks.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startServices, TestSystem, type Services } from './support/harness.ts';
import { EVENTS_ENV, Receiver } from './support/receiver.ts';
import { startRedisCluster, type RedisCluster } from './support/redis-topology.ts';

let services: Services;
let cluster: RedisCluster;
let receiver: Receiver;
let system: TestSystem;

before(async () => {
  services = await startServices();
  cluster = await startRedisCluster(path.join(services.dir, 'cluster'));
  receiver = await new Receiver().start();
  system = new TestSystem(services, { env: { ...EVENTS_ENV, REDIS_CLUSTER_NODES: cluster.setting } });
  await system.startApi();
  await system.startWorker();
});

after(async () => {
  await system?.stop();
  await receiver?.stop();
  await cluster?.stop();
  await services?.stop();
});

test('on a cluster a stack is created, updated with approval and deleted, its events reach a webhook, and every key is under the hash tag', async () => {
  assert.match(system.config.redisPrefix, /^\{test-[A-Za-z0-9]+\}$/);
  assert.equal((await system.http().post('/api/webhooks').send({ url: receiver.url })).status, 201);
  const created = await system.http().post('/api/ec2instance').send({});
  assert.equal(created.status, 202, created.text);
  await system.waitForStackStatus(created.body.id, 'ready');
  const updated = await system
    .http()
    .patch(`/api/ec2instance/${created.body.id}`)
    .send({ inputs: { instance_type: 't3.small' } });
  assert.equal(updated.status, 202, updated.text);
  const jobId = updated.body.job.id as string;
  await system.waitForJobRecord(jobId, (job) => job.status === 'planned', 60_000, 'not planned');
  assert.equal((await system.http().post(`/api/jobs/${jobId}/apply`)).status, 202);
  assert.equal((await system.waitForJob(jobId)).status, 'succeeded');
  assert.equal((await system.stack(created.body.id)).inputs.instance_type, 't3.small');
  assert.equal((await system.http().delete(`/api/ec2instance/${created.body.id}`)).status, 202);
  await system.waitForStackStatus(created.body.id, 'deleted');
  await receiver.waitFor(
    () => receiver.events().some((e) => e.subject === created.body.id && e.type === 'io.tfcompute.stack.deleted'),
    'the deleted event',
  );
  const keys = await system.keysMatching('*');
  assert.ok(
    keys.length > 0 && keys.every((key) => key.startsWith(system.config.redisPrefix)),
    keys.filter((k) => !k.startsWith(system.config.redisPrefix)).join(', '),
  );
  await system.assertEventsMatchRecords();
});
