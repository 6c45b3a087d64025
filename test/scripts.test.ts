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
    env: {
      TFCOMPUTE_URL: system.baseUrl,
      TFCOMPUTE_TOKEN: TOKENS.admin,
      TFCOMPUTE_POLL: '0.2',
      TFCOMPUTE_TIMEOUT: '60',
    },
  });
}

test('create_resource.sh waits for the stack, prints it with its private IPs, and delete_resource.sh destroys it', async () => {
  const system = await newSystem('ok');
  const created = await script(system, 'create_resource.sh', [
    '--node-count',
    '2',
    '--tag',
    'team=qa',
    '--instance-type',
    't3.small',
  ]);
  assert.equal(created.exitCode, 0, created.stderr);
  const stack = JSON.parse(created.stdout);
  assert.equal(stack.status, 'ready');
  assert.equal(stack.outputs.private_ips.length, 2);
  assert.match(created.stderr, /create [0-9a-z]{16}: succeeded, 2\/2 resources, attempt 1/);
  assert.match(created.stderr, /Apply complete! Resources: 2 added/, 'the Terraform log was followed live');
  assert.deepEqual((await system.stack(stack.id)).inputs, {
    instance_type: 't3.small',
    node_count: 2,
    tags: { team: 'qa' },
  });

  const deleted = await script(system, 'delete_resource.sh', [stack.id]);
  assert.equal(deleted.exitCode, 0, deleted.stderr);
  assert.equal(JSON.parse(deleted.stdout).status, 'deleted');
  assert.equal(await system.stateObjectStatus(stack.id), 404);
});

test('create_resource.sh exits non-zero with the error when the stack fails', async () => {
  const system = await newSystem('fail');
  const created = await script(system, 'create_resource.sh', []);
  assert.equal(created.exitCode, 1);
  const stack = JSON.parse(created.stdout);
  assert.equal(stack.status, 'failed');
  assert.match(stack.error.message, /local-exec provisioner error/);
});

test("the scripts exit non-zero with the API's explanation on bad input", async () => {
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
  assert.equal(await system.store.stacks.count(), 0);
});

// Runs a script at a terminal (util-linux script(1) gives it a pseudo-terminal)
// and types `typed` into it; stdout and stderr come back mixed, as a user sees them.
function scriptAtTerminal(system: TestSystem, name: string, args: string[], typed: string) {
  const command = [path.join(ROOT, 'scripts', name), ...args].map((arg) => `'${arg}'`).join(' ');
  return execa('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
    reject: false,
    input: typed,
    env: {
      TFCOMPUTE_URL: system.baseUrl,
      TFCOMPUTE_TOKEN: TOKENS.admin,
      TFCOMPUTE_POLL: '0.2',
      TFCOMPUTE_TIMEOUT: '60',
    },
  });
}

async function readyStack(system: TestSystem): Promise<string> {
  const created = await system
    .http()
    .post('/api/ec2instance')
    .set('Prefer', 'wait=60')
    .send({ node_count: 1, tags: { team: 'qa' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id;
}

test('update_resource.sh shows the plan at a terminal and applies it when the answer is "yes"', async () => {
  const system = await newSystem('changes');
  const id = await readyStack(system);
  const updated = await scriptAtTerminal(
    system,
    'update_resource.sh',
    [id, '--node-count', '2', '--tag', 'env=dev', '--untag', 'team'],
    'yes\n',
  );
  assert.equal(updated.exitCode, 0, updated.stdout);
  assert.match(updated.stdout, /Plan: 1 to add, 1 to change, 0 to destroy \(0 replaced\)\./);
  assert.match(updated.stdout, /\+ terraform_data\.instance\[1\] \(create\)/);
  assert.match(updated.stdout, /~ terraform_data\.instance\[0\] \(update\)/);
  assert.match(updated.stdout, /Apply this plan to [0-9a-z]{16}\? Only "yes" applies it:/);
  assert.match(updated.stdout, /Apply complete! Resources: 1 added, 1 changed, 0 destroyed/);
  assert.equal(
    (updated.stdout.match(/Plan: 1 to add, 1 to change, 0 to destroy\.\r?\n/g) ?? []).length,
    1,
    "the plan's log is shown once",
  );
  const stack = await system.stack(id);
  assert.equal(stack.status, 'ready');
  assert.deepEqual(stack.inputs.tags, { env: 'dev' });
  assert.equal(stack.inputs.node_count, 2);
});

test('update_resource.sh discards the plan on any other answer, and refuses to guess without a terminal', async () => {
  const system = await newSystem('changes');
  const id = await readyStack(system);
  const before = await system.stack(id);
  const declined = await scriptAtTerminal(system, 'update_resource.sh', [id, '--instance-type', 't3.small'], 'y\n');
  assert.equal(declined.exitCode, 1, declined.stdout);
  assert.match(declined.stdout, /-\/\+ terraform_data\.instance\[0\] \(replace\)/);
  assert.match(declined.stdout, /plan discarded; nothing was changed/);
  const discarded = await system.stack(id);
  assert.equal(discarded.status, 'ready');
  assert.equal(discarded.job.status, 'discarded');
  assert.deepEqual(discarded.inputs, before.inputs);

  const piped = await script(system, 'update_resource.sh', [id, '--node-count', '3']);
  assert.equal(piped.exitCode, 1);
  assert.match(piped.stderr, /stdin is not a terminal, so nobody can approve the plan; nothing was changed/);
  assert.deepEqual((await system.stack(id)).job, discarded.job, 'nothing was queued');
});

test('update_resource.sh --auto-approve applies the plan without asking', async () => {
  const system = await newSystem('changes');
  const id = await readyStack(system);
  const updated = await script(system, 'update_resource.sh', [id, '--node-count', '2', '--auto-approve']);
  assert.equal(updated.exitCode, 0, updated.stderr);
  assert.match(updated.stderr, /Plan: 1 to add, 0 to change, 0 to destroy \(0 replaced\)\./);
  assert.doesNotMatch(updated.stderr, /Apply this plan/);
  const stack = JSON.parse(updated.stdout);
  assert.equal(stack.status, 'ready');
  assert.equal(stack.outputs.private_ips.length, 2);
  const bad = await script(system, 'update_resource.sh', [id, '--node-count', '11', '--auto-approve']);
  assert.equal(bad.exitCode, 1);
  assert.match(bad.stderr, /400: .*node_count/);
});
