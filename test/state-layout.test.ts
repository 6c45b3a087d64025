// Where a stack's Terraform state lives, against real Terraform and the S3
// emulator: a new stack's under a workspace_key_prefix of its own, so a job
// lists one workspace however many the bucket holds; a stack from before
// keeps its state where it is through update and delete; and a person with
// the documented backend settings finds the state and its lock by hand.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { stackStatePrefix } from '../core/ids.ts';
import { JobData, QueuedJobData } from '../core/schemas/index.ts';
import { Keys } from '../core/store/keys.ts';
import { Terraform } from '../worker/terraform/terraform.ts';
import { fixtureDir, useSystems } from './support/harness.ts';
import { STATE_BUCKET, STATE_KEY, writeBackendConfig } from './support/local-services.ts';
import { S3Counter } from './support/s3-counter.ts';

const [startSystem, services] = useSystems();
const OTHERS = 150;

// Workspaces of other stacks, old layout and new, written as Terraform writes them.
async function seedWorkspaces(s3Endpoint: string, count: number): Promise<void> {
  const body = JSON.stringify({ version: 4, serial: 1, lineage: 'seeded', outputs: {}, resources: [] });
  for (let i = 0; i < count; i++) {
    const id = `seed${String(i).padStart(12, '0')}`;
    for (const key of [`env:/${id}/${STATE_KEY}`, `${stackStatePrefix(id)}/${id}/${STATE_KEY}`]) {
      const response = await fetch(`${s3Endpoint}/${STATE_BUCKET}/${key}`, { method: 'PUT', body });
      assert.equal(response.status, 200);
    }
  }
}

async function status(url: string): Promise<number> {
  const response = await fetch(url);
  await response.body?.cancel();
  return response.status;
}

test("a new stack's state is under a prefix of its own: its jobs list one workspace among hundreds, and a person finds the state and its lock with the documented settings", async (t) => {
  const backend = services().backend;
  await seedWorkspaces(backend.s3Endpoint, OTHERS);
  const counter = new S3Counter(backend.s3Endpoint);
  const counted = path.join(services().dir, 'counted-backend.hcl');
  await writeBackendConfig(counted, await counter.start(), backend.dynamodbEndpoint);
  t.after(() => counter.stop());
  const system = await startSystem({ worker: true, concurrency: 1, env: { TF_BACKEND_CONFIG: counted } });
  counter.take();

  const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 1 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.id;
  const prefix = stackStatePrefix(id);
  assert.deepEqual(created.body.state, { workspace: id, workspace_key_prefix: prefix });
  assert.equal(
    (await system.http().get(`/api/ec2instance/${id}`)).body.state.workspace_key_prefix,
    prefix,
    'the GET says where the state is',
  );
  assert.equal(await status(backend.stateObjectUrl(id)), 200, `the state is at ${prefix}/${id}/${STATE_KEY}`);
  assert.equal(await status(backend.stateObjectUrl(id, 'env:')), 404, 'nothing under the shared prefix');

  const create = counter.take();
  t.diagnostic(
    `create, ${OTHERS * 2} other workspaces in the bucket: ${create.requests} S3 requests ${JSON.stringify(create.byOperation)}`,
  );
  assert.ok(create.listings.length > 0, "Terraform listed the stack's workspaces");
  for (const listing of create.listings) {
    assert.equal(listing.prefix, `${prefix}/`, "every listing is over the stack's own prefix");
    assert.ok(listing.keys <= 1, `a listing returned ${listing.keys} keys`);
  }

  // By hand, as the README says: the backend settings, the stack's prefix, its workspace.
  const dataDir = await mkdtemp(path.join(services().dir, 'by-hand-'));
  const terraform = new Terraform({ ...system.config.terraform, cwd: fixtureDir('ok'), dataDir, graceMs: 5_000 });
  const { TF_WORKSPACE: _, ...env } = terraform.env('default');
  const run = (args: string[]) =>
    execa('terraform', args, { cwd: fixtureDir('ok'), env, extendEnv: false, reject: false });
  const init = await run([
    'init',
    '-input=false',
    `-backend-config=${counted}`,
    `-backend-config=workspace_key_prefix=${prefix}`,
  ]);
  assert.equal(init.exitCode, 0, init.stderr);
  assert.deepEqual(
    (await run(['workspace', 'list'])).stdout
      .split('\n')
      .map((line) => line.replace('*', '').trim())
      .filter(Boolean)
      .sort(),
    ['default', id].sort(),
  );
  assert.equal((await run(['workspace', 'select', id])).exitCode, 0);
  const pulled = await run(['state', 'pull']);
  assert.equal(pulled.exitCode, 0, pulled.stderr);
  assert.deepEqual(
    (JSON.parse(pulled.stdout) as { resources: Array<{ type: string }> }).resources.map((r) => r.type),
    ['terraform_data'],
  );
  // A lock left on the stack's state is the one force-unlock removes.
  await backend.holdStateLock(id, 'someone@laptop');
  const unlocked = await run(['force-unlock', '-force', 'held-by-someone@laptop']);
  assert.equal(unlocked.exitCode, 0, unlocked.stderr);
  assert.deepEqual(await backend.lockHolders(), []);

  counter.take();
  const deleted = await system.http().delete(`/api/ec2instance/${id}`).set('Prefer', 'wait=60');
  assert.equal(deleted.body.status, 'deleted', JSON.stringify(deleted.body));
  const destroy = counter.take();
  t.diagnostic(`delete: ${destroy.requests} S3 requests ${JSON.stringify(destroy.byOperation)}`);
  for (const listing of destroy.listings.filter((l) => !l.prefix.startsWith('tfcompute-plans/'))) {
    assert.equal(listing.prefix, `${prefix}/`);
    assert.ok(listing.keys <= 1, `a listing returned ${listing.keys} keys`);
  }
  assert.equal(await status(backend.stateObjectUrl(id)), 404, 'the workspace is gone');
  assert.equal(await backend.hasStateDigest(id), false, 'and its checksum item');
});

test('a stack from before stacks had their own prefix keeps its state where it is, through update and delete', async () => {
  const system = await startSystem();
  const created = await system.http().post('/api/ec2instance').send({ node_count: 1 });
  assert.equal(created.status, 202);
  const id: string = created.body.id;
  // As recorded by an earlier version: no prefix of its own.
  await system.redis.hdel(new Keys(system.config.redisPrefix).stack(id), 'state_prefix');
  await system.startWorker();
  const ready = await system.waitForJob(created.body.job.id);
  assert.equal(ready.status, 'succeeded', JSON.stringify(ready.error));
  assert.deepEqual((await system.http().get(`/api/ec2instance/${id}`)).body.state, {
    workspace: id,
    workspace_key_prefix: null,
  });
  const backend = services().backend;
  assert.equal(await status(backend.stateObjectUrl(id, 'env:')), 200, 'under the shared prefix, as before');
  assert.equal(await status(backend.stateObjectUrl(id)), 404, 'nothing moved');

  const updated = await system
    .http()
    .patch(`/api/ec2instance/${id}`)
    .set('Prefer', 'wait=60')
    .send({ inputs: { node_count: 2 }, auto_apply: true });
  assert.equal(updated.body.status, 'ready', JSON.stringify(updated.body));
  const state = (await (await fetch(backend.stateObjectUrl(id, 'env:'))).json()) as {
    resources: Array<{ instances: unknown[] }>;
  };
  assert.equal(state.resources[0]?.instances.length, 2, 'the update applied to the state where it is');
  assert.equal(await status(backend.stateObjectUrl(id)), 404);

  const deleted = await system.http().delete(`/api/ec2instance/${id}`).set('Prefer', 'wait=60');
  assert.equal(deleted.body.status, 'deleted', JSON.stringify(deleted.body));
  assert.deepEqual(
    (await backend.listStateKeys()).filter((key) => key.includes(id)),
    [],
    'no state left anywhere',
  );
  assert.equal(await backend.hasStateDigest(id, 'env:'), false);
});

test("a stack's jobs carry its prefix, so a worker from before stacks had prefixes refuses them instead of running them under the shared one", async () => {
  const system = await startSystem();
  const created = await system.http().post('/api/ec2instance').send({ node_count: 1 });
  assert.equal(created.status, 202);
  const id: string = created.body.id;
  const dataOf = async (jobId: string) => (await system.queue.getJob(jobId))?.data as JobData | undefined;
  const queued = { data: await dataOf(created.body.job.id) };
  assert.equal(queued.data?.statePrefix, stackStatePrefix(id));
  // That worker's job schema: this one's, less the field it did not know.
  const before = QueuedJobData.omit({ statePrefix: true });
  assert.equal(before.safeParse(queued.data).success, false, 'refused as a job it cannot parse');
  assert.equal(JobData.safeParse(queued.data).success, true);

  await system.startWorker();
  assert.equal((await system.waitForJob(created.body.job.id)).status, 'succeeded');
  const deleted = await system.http().delete(`/api/ec2instance/${id}`);
  assert.equal((await dataOf(deleted.body.job.id))?.statePrefix, stackStatePrefix(id), 'a delete too');
  assert.equal((await system.waitForJob(deleted.body.job.id)).status, 'succeeded');
});
