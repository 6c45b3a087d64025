// Drift detection against real Terraform, Redis and the S3 emulator: with
// DRIFT_CHECK_INTERVAL set, every ready stack is planned on that schedule
// and shows the result. The world outside Terraform is a local state file
// the test rewrites (test/fixtures/changes reads it with terraform_remote_state).
import assert from 'node:assert/strict';
import { appendFile, cp, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Job } from '../core/schemas/index.ts';
import { outsideWorld } from './support/outside-world.ts';
import { fixtureDir, type TestSystem, useSystems } from './support/harness.ts';

const [startSystem, services] = useSystems();

const INSTANCES = [
  { address: 'terraform_data.instance[0]', action: 'update' },
  { address: 'terraform_data.instance[1]', action: 'update' },
];

describe('drift detection', () => {
  test('an outside change is found by the scheduled check within two intervals; a speculative plan lists it; an apply brings the stack back in sync', async () => {
    const intervalMs = 3_000;
    const outside = await outsideWorld(services().dir);
    const system = await startSystem({
      fixture: 'changes',
      worker: true,
      env: { TF_VAR_outside_state: outside.path, DRIFT_CHECK_INTERVAL: '3s' },
    });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 2 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id: string = created.body.id;
    // The apply left the stack matching its configuration.
    assert.deepEqual(created.body.drift, {
      status: 'in_sync',
      checked_at: created.body.drift.checked_at,
      job: { id: created.body.job.id, href: created.body.job.href },
      resources: [],
    });
    // A scheduled check of the unchanged stack finds it in sync.
    const checkedQuiet = await system.waitForStack(
      id,
      (r) => r.drift.job?.id !== created.body.job.id,
      3 * intervalMs,
      'not checked',
    );
    assert.equal(checkedQuiet.drift.status, 'in_sync');

    await outside.set('v2');
    const changedAt = Date.now();
    const found = await system.waitForStack(
      id,
      (r) => r.drift.status === 'drifted',
      4 * intervalMs,
      'not found drifted',
    );
    assert.ok(
      Date.parse(found.drift.checked_at ?? '') - changedAt <= 2 * intervalMs,
      `found ${Date.parse(found.drift.checked_at ?? '') - changedAt} ms after the change`,
    );
    assert.deepEqual(found.drift.resources, INSTANCES);
    // The check was a plan-only job that changed nothing of the stack.
    assert.equal(found.status, 'ready');
    assert.deepEqual(found.job, created.body.job);
    const check: Job = (await system.http().get(found.drift.job?.href ?? '')).body;
    assert.equal(check.action, 'plan');
    assert.equal(check.status, 'succeeded');
    assert.deepEqual(check.plan?.resources, INSTANCES);

    const shown = (await system.http().get(`/api/ec2instance/${id}`)).body;
    assert.equal(shown.drift.status, 'drifted');
    const listed = async (query: string) =>
      (await system.http().get(`/api/ec2instance?${query}`)).body.items.map((r: { id: string }) => r.id);
    assert.deepEqual(await listed('drift=drifted'), [id]);
    assert.deepEqual(await listed('drift=in_sync'), []);
    assert.deepEqual(await listed('status=ready&drift=drifted'), [id]);
    const metrics = (await system.http().get('/metrics')).text;
    assert.match(metrics, /tfcompute_stacks_drift\{status="drifted"\} 1/);
    assert.match(metrics, /tfcompute_stacks_drift\{status="in_sync"\} 0/);
    const refused = await system.http().get('/api/ec2instance?drift=maybe');
    assert.equal(refused.status, 400);

    const plan = await system.http().post(`/api/ec2instance/${id}/plan`).set('Prefer', 'wait=60');
    assert.equal(plan.status, 200, JSON.stringify(plan.body));
    assert.deepEqual(plan.body.plan.resources, INSTANCES);
    // Found drifted once (the plan found what was known): one event, naming the check.
    const drifted = (await system.store.outbox.entries()).filter(
      (e) => e.subject === id && e.type === 'io.tfcompute.stack.drifted',
    );
    assert.deepEqual(
      drifted.map((e) => JSON.parse(e.data).job),
      [{ id: check.id, action: 'plan', status: 'succeeded' }],
    );

    // An update with no input changes applies the configuration again.
    const applied = await system
      .http()
      .patch(`/api/ec2instance/${id}`)
      .set('Prefer', 'wait=60')
      .send({ auto_apply: true });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.equal(applied.body.status, 'ready');
    assert.equal(applied.body.drift.status, 'in_sync');
    assert.equal(applied.body.drift.job.id, applied.body.job.id);
    const rechecked = await system.waitForStack(
      id,
      (r) => r.drift.job?.id !== applied.body.job.id,
      3 * intervalMs,
      'not checked again',
    );
    assert.equal(rechecked.drift.status, 'in_sync');
    assert.deepEqual(await listed('drift=drifted'), []);
  });

  test("checks never overlap a stack's jobs, and a user's job waits for at most the one check running", async () => {
    const outside = await outsideWorld(services().dir);
    const system = await startSystem({
      fixture: 'changes',
      worker: true,
      env: { TF_VAR_outside_state: outside.path, DRIFT_CHECK_INTERVAL: '1s' },
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 1 });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      ids.push(created.body.id);
    }
    // The stack's oldest unfinished job, when it is a check that has started.
    const runningCheck = async (id: string) => {
      const head = await system.store.jobs.head(id);
      const job = head ? await system.store.jobs.get(head) : null;
      return job?.action === 'plan' && job.status === 'running' ? job : null;
    };
    const waits: Array<{ user: Job; check: Job }> = [];
    for (let round = 0; round < 2; round++) {
      for (const id of ids) {
        const check = await system.waitForStackEvents(
          id,
          () => runningCheck(id),
          (job) => job !== null,
          10_000,
          'no check started',
        );
        const changed = await system
          .http()
          .patch(`/api/ec2instance/${id}`)
          .set('Prefer', 'wait=60')
          .send({ inputs: { tags: { round: String(round) } }, auto_apply: true });
        assert.equal(changed.status, 200, JSON.stringify(changed.body));
        assert.equal(changed.body.status, 'ready', JSON.stringify(changed.body.error));
        waits.push({
          user: (await system.store.jobs.get(changed.body.job.id)) as Job,
          check: (await system.store.jobs.get((check as Job).id)) as Job,
        });
      }
    }
    for (const { user, check } of waits) {
      assert.equal(check.status, 'succeeded', JSON.stringify(check.error));
      assert.ok(user.created_at < (check.finished_at ?? ''), 'the user job was sent while the check ran');
      const waitedMs = Date.parse(user.started_at ?? '') - Date.parse(user.created_at);
      const checkMs = Date.parse(check.finished_at ?? '') - Date.parse(check.started_at ?? '');
      assert.ok(waitedMs <= checkMs + 250, `user job ${user.id} waited ${waitedMs} ms behind a check of ${checkMs} ms`);
    }
    const jobs = await jobsOf(system);
    for (const id of ids) {
      const runs = jobs
        .filter((job) => job.resource_id === id && job.started_at)
        .sort((a, b) => (a.started_at ?? '').localeCompare(b.started_at ?? ''));
      for (let i = 1; i < runs.length; i++) {
        const [before, after] = [runs[i - 1] as Job, runs[i] as Job];
        assert.ok(
          (after.started_at ?? '') >= (before.finished_at ?? ''),
          `${after.action} ${after.id} started before ${before.action} ${before.id} finished`,
        );
      }
    }
  });

  test('a stack whose template changed shows the version served now, and an update with no input changes moves it there', async () => {
    const dir = path.join(await mkdtemp(path.join(services().dir, 'template-')), 'changes');
    await cp(fixtureDir('changes'), dir, { recursive: true, dereference: true });
    const system = await startSystem({ fixture: 'changes', env: { TF_CWD: dir } });
    const worker = await system.startWorker({ env: { TF_CWD: dir } });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 1 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id: string = created.body.id;
    assert.equal(created.body.template.latest_version, undefined);

    await system.api?.stop();
    await worker.stop();
    await appendFile(path.join(dir, 'main.tf'), '\n# A new revision of the template that changes no resource.\n');
    await system.startApi();
    await system.startWorker({ env: { TF_CWD: dir } });
    const served = await system.templateRef();
    assert.notEqual(served.version, created.body.template.version);
    const shown = (await system.http().get(`/api/ec2instance/${id}`)).body;
    assert.deepEqual(shown.template, {
      name: 'ec2instance',
      version: created.body.template.version,
      latest_version: served.version,
    });
    const listed = (await system.http().get('/api/ec2instance')).body.items[0];
    assert.equal(listed.template.latest_version, served.version);

    const moved = await system.http().patch(`/api/ec2instance/${id}`).set('Prefer', 'wait=60').send({});
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.status, 'ready');
    assert.deepEqual(moved.body.template, served);
    assert.deepEqual(moved.body.inputs, created.body.inputs);
  });
});

// Every job recorded for the system.
async function jobsOf(system: TestSystem): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const key of await system.keysMatching(`${system.config.redisPrefix}:job:*`)) {
    if (key.endsWith(':log')) continue;
    const job = await system.store.jobs.get(key.slice(key.lastIndexOf(':') + 1));
    if (job) jobs.push(job);
  }
  return jobs;
}
