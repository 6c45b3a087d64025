// Changing live stacks, against real Terraform and the S3 emulator: a
// speculative plan shows what an apply would change now, outside changes
// included, and changes nothing. The world outside Terraform is a local
// state file the test rewrites (test/fixtures/changes reads it with
// terraform_remote_state, through an operator-set variable).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { assertProblem, TOKENS, useSystems } from './support/harness.ts';

const [startSystem, services] = useSystems();

// A local state file whose "value" output is `value`: the outside world.
async function outsideWorld(): Promise<{ path: string; set(value: string): Promise<void> }> {
  const file = path.join(await mkdtemp(path.join(services().dir, 'outside-')), 'outside.tfstate');
  let serial = 0;
  const set = async (value: string) => {
    serial += 1;
    const state = { version: 4, terraform_version: '1.11.4', serial, lineage: 'outside', outputs: { value: { value, type: 'string' } }, resources: [] };
    await writeFile(file, JSON.stringify(state));
  };
  await set('v1');
  return { path: file, set };
}

async function stateBytes(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return response.text();
}

describe('speculative plans', () => {
  test('a plan shows what an apply would change now, outside changes included, and changes nothing', async () => {
    const outside = await outsideWorld();
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
    assert.equal(accepted.body.status, 'queued');
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

  test('only a ready stack of the route\'s template can be planned; nothing is queued otherwise', async () => {
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
