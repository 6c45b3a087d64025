// Changing live stacks, against real Terraform and the S3 emulator: a
// speculative plan shows what an apply would change now, outside changes
// included, and changes nothing. The world outside Terraform is a local
// state file the test rewrites (test/fixtures/changes reads it with
// terraform_remote_state, through an operator-set variable).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { QueueEvents } from 'bullmq';
import { forgetJobId } from '../core/lifecycle/approve.ts';
import { QUEUE_NAME } from '../core/queue.ts';
import { makeJobDataDir } from '../worker/terraform/job-dir.ts';
import { Terraform } from '../worker/terraform/terraform.ts';
import { assertProblem, fixtureDir, TOKENS, useSystems } from './support/harness.ts';
import { outsideWorld } from './support/outside-world.ts';

const [startSystem, services] = useSystems();

async function stateBytes(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return response.text();
}

describe('speculative plans', () => {
  test('a plan shows what an apply would change now, outside changes included, and changes nothing', async () => {
    const outside = await outsideWorld(services().dir);
    const system = await startSystem({ fixture: 'changes', worker: true, env: { TF_VAR_outside_state: outside.path } });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 2 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id: string = created.body.id;
    const stateUrl = services().backend.stateObjectUrl(id);
    const stateBefore = await stateBytes(stateUrl);

    const quiet = await system.http().post(`/api/ec2instance/${id}/plan`).set('Prefer', 'wait=60');
    assert.equal(quiet.status, 200, JSON.stringify(quiet.body));
    assert.equal(quiet.headers.location, `/api/jobs/${quiet.body.id}`);
    assert.equal(quiet.body.action, 'plan');
    assert.equal(quiet.body.status, 'succeeded', JSON.stringify(quiet.body.error));
    assert.deepEqual(quiet.body.plan, { add: 0, change: 0, destroy: 0, replace: 0, resources: [], drift: [] });
    assert.deepEqual(quiet.body.template, created.body.template);

    await outside.set('v2');
    const accepted = await system.http().post(`/api/ec2instance/${id}/plan`);
    assert.equal(accepted.status, 202);
    // The body is the job as it is when answered: a free worker may have taken it already.
    assert.ok(['queued', 'running'].includes(accepted.body.status), accepted.body.status);
    const planned = await system.waitForJob(accepted.body.id);
    assert.equal(planned.status, 'succeeded', JSON.stringify(planned.error));
    assert.deepEqual(planned.plan, {
      add: 0,
      change: 2,
      destroy: 0,
      replace: 0,
      resources: [
        { address: 'terraform_data.instance[0]', action: 'update' },
        { address: 'terraform_data.instance[1]', action: 'update' },
      ],
      drift: [],
    });
    assert.deepEqual(planned.result?.changes, { add: 0, change: 2, remove: 0 });
    assert.equal(planned.result?.outputs, undefined);
    const log = (await system.http().get(`/api/jobs/${planned.id}/log`)).text;
    assert.match(log, /Plan: 0 to add, 2 to change, 0 to destroy/);

    // The stack is as it was: status, job, inputs, outputs, and its state object byte for byte.
    const after = (await system.http().get(`/api/ec2instance/${id}`)).body;
    assert.equal(after.status, 'ready');
    assert.deepEqual(after.job, created.body.job);
    assert.deepEqual([after.inputs, after.outputs], [created.body.inputs, created.body.outputs]);
    assert.equal(await stateBytes(stateUrl), stateBefore);
  });

  test("only a ready stack of the route's template can be planned; nothing is queued otherwise", async () => {
    const system = await startSystem({ fixture: 'fail', worker: true });
    const failed = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    assert.equal(failed.body.status, 'failed', JSON.stringify(failed.body));
    const conflict = await system.http().post(`/api/ec2instance/${failed.body.id}/plan`);
    assertProblem(conflict, 409, 'invalid-state');
    assert.match(conflict.body.detail, /is failed/);
    assertProblem(await system.http().post('/api/ec2instance/0000000000000000/plan'), 404, 'resource-not-found');
    assertProblem(await system.http().post('/api/ec2instance/NOT-AN-ID/plan'), 400, 'invalid-id');
    assert.equal(await system.store.jobs.pendingCount(failed.body.id), 0);
    const reader = await system.http(TOKENS.reader).post(`/api/ec2instance/${failed.body.id}/plan`);
    assert.equal(reader.status, 403);
  });
});

describe('updates', () => {
  async function readyStack(
    system: Awaited<ReturnType<typeof startSystem>>,
    inputs: Record<string, unknown> = { node_count: 2 },
  ) {
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send(inputs);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as {
      id: string;
      inputs: Record<string, unknown>;
      outputs: { private_ips: string[] };
      template: { version: string };
      state: { workspace_key_prefix: string | null };
    };
  }

  test('a PATCH plans, waits planned with the right counts, and an approval applies it', async () => {
    const system = await startSystem({ fixture: 'changes', worker: true });
    const stack = await readyStack(system);
    const patched = await system
      .http()
      .patch(`/api/ec2instance/${stack.id}`)
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({ inputs: { node_count: 3 } }));
    assert.equal(patched.status, 202, JSON.stringify(patched.body));
    assert.equal(patched.body.status, 'updating');
    assert.equal(patched.body.job.action, 'update');
    assert.deepEqual(patched.body.inputs, stack.inputs, 'the stack keeps its inputs until the update succeeds');
    const planned = await system.waitForJobRecord(patched.body.job.id, (job) => job.status === 'planned');
    assert.deepEqual(planned.plan, {
      add: 1,
      change: 0,
      destroy: 0,
      replace: 0,
      resources: [{ address: 'terraform_data.instance[2]', action: 'create' }],
      drift: [],
    });
    assert.equal((await system.stack(stack.id)).status, 'updating');

    const approved = await system.http().post(`/api/jobs/${planned.id}/apply`);
    assert.equal(approved.status, 202, JSON.stringify(approved.body));
    const done = await system.waitForJob(planned.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const after = (await system.http().get(`/api/ec2instance/${stack.id}`)).body;
    assert.equal(after.status, 'ready');
    assert.equal(after.inputs.node_count, 3);
    assert.equal(after.outputs.private_ips.length, 3);
    assert.deepEqual(await system.stateAddresses(stack.id), [
      'terraform_data.instance[0]',
      'terraform_data.instance[1]',
      'terraform_data.instance[2]',
    ]);
    assertProblem(await system.http().post(`/api/jobs/${planned.id}/apply`), 409, 'invalid-state');
    assertProblem(await system.http().post(`/api/jobs/${planned.id}/discard`), 409, 'invalid-state');
  });

  test('a replacement is counted; a discard changes nothing, the state object byte for byte', async () => {
    const system = await startSystem({ fixture: 'changes', worker: true });
    const stack = await readyStack(system);
    const stateUrl = services().backend.stateObjectUrl(stack.id);
    const before = await stateBytes(stateUrl);
    const patched = await system
      .http()
      .patch(`/api/ec2instance/${stack.id}`)
      .set('Prefer', 'wait=60')
      .send({ inputs: { instance_type: 't3.small' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.job.status, 'planned');
    const job = (await system.http().get(`/api/jobs/${patched.body.job.id}`)).body;
    assert.deepEqual([job.plan.add, job.plan.change, job.plan.destroy, job.plan.replace], [2, 0, 2, 2]);
    const planUrl = services().backend.planObjectUrl(stack.id, job.id);
    assert.equal((await fetch(planUrl, { method: 'HEAD' })).status, 200, 'the plan is kept beside the state');
    const discarded = await system.http().post(`/api/jobs/${job.id}/discard`);
    assert.equal(discarded.status, 200);
    assert.equal(discarded.body.status, 'discarded');
    // A worker removes the saved plan.
    const forget = await system.queue.getJob(forgetJobId(job.id));
    assert.ok(forget, 'the removal of the plan was queued');
    const { hostname, port } = new URL(services().redis.url);
    // Its own connection, which close() closes.
    const events = new QueueEvents(QUEUE_NAME, {
      connection: { host: hostname, port: Number(port) },
      prefix: system.config.redisPrefix,
      blockingTimeout: 1_000,
    });
    try {
      await forget.waitUntilFinished(events, 30_000).catch(async (error: unknown) => {
        // Finished before the listener was ready: removed on completion.
        if (await system.queue.getJob(forgetJobId(job.id))) throw error;
      });
    } finally {
      await events.close();
    }
    assert.equal((await fetch(planUrl, { method: 'HEAD' })).status, 404, 'the discarded plan is removed');
    const after = (await system.http().get(`/api/ec2instance/${stack.id}`)).body;
    assert.equal(after.status, 'ready');
    assert.deepEqual([after.inputs, after.outputs], [stack.inputs, stack.outputs]);
    assert.equal(await stateBytes(stateUrl), before);
    assert.equal(await system.store.jobs.pendingCount(stack.id), 0);
  });

  test('auto_apply applies at once; a PATCH that changes nothing succeeds at once; an invalid one is a 400 and queues nothing', async () => {
    const system = await startSystem({ fixture: 'changes', worker: true });
    const stack = await readyStack(system);
    const auto = await system
      .http()
      .patch(`/api/ec2instance/${stack.id}`)
      .set('Prefer', 'wait=60')
      .send({ inputs: { node_count: 1, tags: { team: 'a' } }, auto_apply: true });
    assert.equal(auto.status, 200, JSON.stringify(auto.body));
    assert.equal(auto.body.status, 'ready', JSON.stringify(auto.body.error));
    assert.deepEqual(
      [auto.body.inputs.node_count, auto.body.inputs.tags, auto.body.outputs.private_ips.length],
      [1, { team: 'a' }, 1],
    );

    // null removes a key: tags falls back to its default ({}), which the
    // instance records, so this one changes it; the same again changes nothing.
    const removed = await system
      .http()
      .patch(`/api/ec2instance/${stack.id}`)
      .set('Prefer', 'wait=60')
      .send({ inputs: { tags: null }, auto_apply: true });
    assert.equal(removed.body.status, 'ready');
    assert.deepEqual(removed.body.inputs.tags, {});
    const same = await system
      .http()
      .patch(`/api/ec2instance/${stack.id}`)
      .set('Prefer', 'wait=60')
      .send({ inputs: { node_count: 1 } });
    assert.equal(same.status, 200);
    assert.equal(same.body.status, 'ready');
    const noop = (await system.http().get(`/api/jobs/${same.body.job.id}`)).body;
    assert.equal(noop.status, 'succeeded');
    assert.deepEqual([noop.plan.add, noop.plan.change, noop.plan.destroy], [0, 0, 0]);

    const before = await system.stack(stack.id);
    for (const body of [
      { inputs: { node_count: 11 } },
      { inputs: { nope: 1 } },
      { inputs: { node_count: '2' } },
      { auto_apply: 'yes' },
      { extra: 1 },
    ]) {
      const res = await system.http().patch(`/api/ec2instance/${stack.id}`).send(body);
      assertProblem(res, 400, 'validation-failed');
    }
    assertProblem(
      await system.http().patch(`/api/ec2instance/${stack.id}`).set('Content-Type', 'text/plain').send('x'),
      415,
      'unsupported-media-type',
    );
    assert.deepEqual(await system.stack(stack.id), before);
    assert.equal(await system.store.jobs.pendingCount(stack.id), 0);
  });

  test('an approval after the state moved is refused as stale, and nothing is applied', async () => {
    const system = await startSystem({ fixture: 'changes', worker: true });
    const stack = await readyStack(system);
    const patched = await system
      .http()
      .patch(`/api/ec2instance/${stack.id}`)
      .set('Prefer', 'wait=60')
      .send({ inputs: { node_count: 3 } });
    assert.equal(patched.body.job.status, 'planned');
    // Someone else writes the state meanwhile: `terraform state push` of it with a higher serial.
    const stateUrl = services().backend.stateObjectUrl(stack.id);
    const state = JSON.parse(await stateBytes(stateUrl)) as { serial: number };
    state.serial += 1;
    const pushed = path.join(await mkdtemp(path.join(services().dir, 'push-')), 'pushed.tfstate');
    await writeFile(pushed, JSON.stringify(state));
    const terraform = new Terraform({
      ...system.config.terraform,
      cwd: fixtureDir('changes'),
      dataDir: `${system.config.worker.workDir}/outsider-${system.config.redisPrefix}`,
      graceMs: 5_000,
    });
    await terraform.init();
    // Under the stack's own prefix, as the worker runs it.
    const dataDir = await makeJobDataDir(
      terraform.settings.dataDir,
      stack.state.workspace_key_prefix ?? '',
      `${terraform.settings.dataDir}-${stack.id}`,
    );
    const push = await terraform.run(['state', 'push', pushed], {
      workspace: stack.id,
      ...(dataDir ? { dataDir } : {}),
    });
    assert.equal(push.exitCode, 0, push.stderr);
    const moved = await stateBytes(stateUrl);

    await system.http().post(`/api/jobs/${patched.body.job.id}/apply`).expect(202);
    const job = await system.waitForJob(patched.body.job.id);
    assert.equal(job.status, 'failed');
    assert.match(job.error?.message ?? '', /the plan is stale/);
    const after = (await system.http().get(`/api/ec2instance/${stack.id}`)).body;
    assert.equal(after.status, 'update_failed');
    assert.deepEqual(after.inputs, stack.inputs);
    assert.equal(await stateBytes(stateUrl), moved, 'nothing was applied');
    // A retry plans the same change afresh, and waits for approval as the update did.
    const retried = await system.http().post(`/api/ec2instance/${stack.id}/retry`).set('Prefer', 'wait=60');
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.status, 'updating');
    assert.equal(retried.body.job.action, 'update');
    assert.equal(retried.body.job.status, 'planned');
    assert.deepEqual((await system.store.jobs.get(retried.body.job.id))?.plan?.resources, [
      { address: 'terraform_data.instance[2]', action: 'create' },
    ]);
    // Discarding it leaves the stack as it was, update_failed; a PATCH from there applies.
    await system.http().post(`/api/jobs/${retried.body.job.id}/discard`).expect(200);
    assert.equal((await system.stack(stack.id)).status, 'update_failed');
    const again = await system
      .http()
      .patch(`/api/ec2instance/${stack.id}`)
      .set('Prefer', 'wait=60')
      .send({ inputs: { node_count: 3 }, auto_apply: true });
    assert.equal(again.body.status, 'ready', JSON.stringify(again.body.error));
    assert.equal(again.body.inputs.node_count, 3);
    assertProblem(await system.http().post(`/api/ec2instance/${stack.id}/retry`), 409, 'invalid-state');
  });

  test('a DELETE while a plan awaits approval discards it, then destroys the stack', async () => {
    const system = await startSystem({ fixture: 'changes', worker: true });
    const stack = await readyStack(system);
    const patched = await system
      .http()
      .patch(`/api/ec2instance/${stack.id}`)
      .set('Prefer', 'wait=60')
      .send({ inputs: { node_count: 3 } });
    assert.equal(patched.body.job.status, 'planned');
    const deleted = await system.http().delete(`/api/ec2instance/${stack.id}`).set('Prefer', 'wait=60');
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal(deleted.body.status, 'deleted');
    const update = (await system.http().get(`/api/jobs/${patched.body.job.id}`)).body;
    assert.equal(update.status, 'discarded');
    assert.equal(await system.stateObjectStatus(stack.id), 404);
    assert.equal(
      (await fetch(services().backend.planObjectUrl(stack.id, update.id), { method: 'HEAD' })).status,
      404,
      'the delete removed the saved plan',
    );
    assert.match(await system.store.logs.get(deleted.body.job.id), /1 saved plan\(s\) of the stack removed/);
  });

  test('only a ready or update_failed stack can be changed', async () => {
    const system = await startSystem({ fixture: 'fail', worker: true });
    const failed = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    assert.equal(failed.body.status, 'failed');
    const res = await system
      .http()
      .patch(`/api/ec2instance/${failed.body.id}`)
      .send({ inputs: { node_count: 2 } });
    assertProblem(res, 409, 'invalid-state');
    assert.match(res.body.detail, /is failed/);
    assertProblem(
      await system.http().patch('/api/ec2instance/0000000000000000').send({ inputs: {} }),
      404,
      'resource-not-found',
    );
  });
});
