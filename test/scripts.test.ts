// The shell wrappers, end to end against a running API and worker.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { ROOT, TOKENS, useSystems, type Fixture, type TestSystem } from './support/harness.ts';

const [startSystem] = useSystems();
const newSystem = (fixture: Fixture) => startSystem({ fixture, worker: true });

function script(system: TestSystem, name: string, args: string[]) {
  return execa(path.join(ROOT, 'scripts', name), args, {
    reject: false,
    env: { TFCOMPUTE_URL: system.baseUrl, TFCOMPUTE_TOKEN: TOKENS.admin, TFCOMPUTE_POLL: '0.2', TFCOMPUTE_TIMEOUT: '60' },
  });
}

test('create_resource.sh waits for the stack, prints it with its private IPs, and delete_resource.sh destroys it', async () => {
  const system = await newSystem('ok');
  const created = await script(system, 'create_resource.sh', ['--node-count', '2', '--tag', 'team=qa', '--instance-type', 't3.small']);
  assert.equal(created.exitCode, 0, created.stderr);
  const resource = JSON.parse(created.stdout);
  assert.equal(resource.status, 'ready');
  assert.equal(resource.outputs.private_ips.length, 2);
  assert.match(created.stderr, /create [0-9a-z]{16}: succeeded, 2\/2 resources, attempt 1/);
  assert.match(created.stderr, /Apply complete! Resources: 2 added/, 'the Terraform log was followed live');
  assert.deepEqual((await system.resource(resource.id)).inputs, { instance_type: 't3.small', node_count: 2, tags: { team: 'qa' } });

  const deleted = await script(system, 'delete_resource.sh', [resource.id]);
  assert.equal(deleted.exitCode, 0, deleted.stderr);
  assert.equal(JSON.parse(deleted.stdout).status, 'deleted');
  assert.equal(await system.stateObjectStatus(resource.id), 404);
});

test('create_resource.sh exits non-zero with the error when the stack fails', async () => {
  const system = await newSystem('fail');
  const created = await script(system, 'create_resource.sh', []);
  assert.equal(created.exitCode, 1);
  const resource = JSON.parse(created.stdout);
  assert.equal(resource.status, 'failed');
  assert.match(resource.error.message, /local-exec provisioner error/);
});

test('the scripts exit non-zero with the API\'s explanation on bad input', async () => {
  const system = await newSystem('ok');
  const tooMany = await script(system, 'create_resource.sh', ['--node-count', '11']);
  assert.equal(tooMany.exitCode, 1);
  assert.match(tooMany.stderr, /400: Request validation failed: node_count/);
  const unknown = await script(system, 'delete_resource.sh', ['0123456789abcdef']);
  assert.equal(unknown.exitCode, 1);
  assert.match(unknown.stderr, /404: Resource not found/);
  const malformed = await script(system, 'delete_resource.sh', ['../etc']);
  assert.equal(malformed.exitCode, 1);
  assert.match(malformed.stderr, /not a resource id/);
  assert.equal(await system.store.resources.count(), 0);
});
