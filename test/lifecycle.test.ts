// A stack's whole life through the API, with a real worker running the real
// terraform binary against the S3 backend emulator.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stackStatePrefix } from '../core/ids.ts';
import { makeJobDataDir } from '../worker/terraform/job-dir.ts';
import { Terraform } from '../worker/terraform/terraform.ts';
import { fixtureDir, useSystems, type Fixture } from './support/harness.ts';

const [startSystem, services] = useSystems();
const newSystem = (fixture: Fixture = 'ok', stateDirectAccess: 'auto' | 'off' = 'auto') =>
  startSystem({ fixture, worker: true, stateDirectAccess });

// Workers read and remove workspace state in S3 directly when they can
// (STATE_DIRECT_ACCESS=auto) and run Terraform's workspace commands otherwise.
const MODES = [
  {
    mode: 'auto',
    label: 'with direct S3 state access',
    removedLog: /deleted from S3/,
    checkLog: /Workspace state found in S3 with 1 resource/,
  },
  {
    mode: 'off',
    label: 'with Terraform workspace commands',
    removedLog: /Deleted workspace/,
    checkLog: /Workspace "collisionoff0000" already exists/,
  },
] as const;

describe('create and delete', () => {
  test('a created stack becomes ready with its outputs, and its state is in S3', async () => {
    const system = await newSystem();
    const created = await system
      .http()
      .post('/api/ec2instance')
      .send({ node_count: 2, tags: { team: 'qa' } });
    assert.equal(created.status, 202);
    const id: string = created.body.id;

    const job = await system.waitForJob(created.body.job.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const res = await system.http().get(`/api/ec2instance/${id}`);
    assert.equal(res.body.status, 'ready');
    assert.equal(res.body.outputs.resource_id, id);
    assert.equal(res.body.outputs.private_ips.length, 2);
    assert.equal(res.body.outputs.instance_ids.length, 2);
    assert.equal(res.body.job.status, 'succeeded');
    assert.equal(res.body.error, undefined);

    const jobRes = await system.http().get(`/api/jobs/${created.body.job.id}`);
    assert.equal(jobRes.body.status, 'succeeded');
    assert.equal(jobRes.body.attempts, 1);
    assert.deepEqual(jobRes.body.result.changes, { add: 2, change: 0, remove: 0 });
    assert.deepEqual(jobRes.body.result.outputs, res.body.outputs);
    assert.deepEqual(jobRes.body.progress, { completed: 2, total: 2 });
    assert.ok(jobRes.body.finished_at >= jobRes.body.started_at);

    const log = await system.http().get(`/api/jobs/${created.body.job.id}/log`);
    assert.match(log.headers['content-type'] ?? '', /^text\/plain/);
    assert.match(log.text, /Apply complete! Resources: 2 added/);
    // Finished jobs are kept for JOB_RETENTION_DAYS (30 by default), then expire.
    for (const [what, ttl] of Object.entries(await system.store.jobs.retention(created.body.job.id))) {
      assert.ok(ttl > 29 * 86_400 && ttl <= 30 * 86_400, `the job's ${what} expires in ${ttl} s`);
    }
    assert.match(log.text, /No workspace state in S3 yet/, 'the adoption check read S3 directly');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape codes are what it looks for
    assert.doesNotMatch(log.text, /\u001b\[/, 'no ANSI codes');

    assert.equal(await system.stateObjectStatus(id), 200);
    assert.deepEqual(await system.stateAddresses(id), ['terraform_data.instance[0]', 'terraform_data.instance[1]']);

    // A sensitive output is redacted everywhere a user or operator can look.
    assert.equal(res.body.outputs.admin_password, '[REDACTED]');
    const everything = [
      res.text,
      jobRes.text,
      log.text,
      (await system.http().get('/api/ec2instance')).text,
      await system.everythingInRedis(),
    ].join('\n');
    assert.doesNotMatch(everything, /s3cr3t-/);
  });

  for (const { mode, label, removedLog } of MODES) {
    test(`a deleted stack is destroyed and its workspace removed, ${label}`, async () => {
      const system = await newSystem('ok', mode);
      const created = await system.http().post('/api/ec2instance').send({});
      await system.waitForJob(created.body.job.id);
      assert.equal(await system.stateObjectStatus(created.body.id), 200);

      const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`);
      assert.equal(deleted.status, 202);
      assert.equal(deleted.body.status, 'deleting');
      const job = await system.waitForJob(deleted.body.job.id);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(job.result?.changes, { add: 0, change: 0, remove: 1 });

      const res = await system.http().get(`/api/ec2instance/${created.body.id}`);
      assert.equal(res.body.status, 'deleted');
      assert.deepEqual(res.body.outputs, {});
      assert.equal(await system.stateObjectStatus(created.body.id), 404);
      assert.equal(
        await services().backend.hasStateDigest(created.body.id),
        false,
        'no checksum item left in the lock table',
      );
      assert.match(await system.store.logs.get(deleted.body.job.id), removedLog);

      const again = await system.http().delete(`/api/ec2instance/${created.body.id}`);
      assert.equal(again.status, 200, 'deleting a deleted stack changes nothing');
      assert.equal(again.body.job.id, deleted.body.job.id);
    });
  }

  test('with Prefer: wait, POST answers 201 once ready and DELETE 200 once deleted', async () => {
    const system = await newSystem();
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    assert.equal(created.status, 201);
    assert.equal(created.headers['preference-applied'], 'wait=60');
    assert.equal(created.headers.location, `/api/ec2instance/${created.body.id}`);
    assert.equal(created.body.status, 'ready');
    assert.equal(created.body.outputs.resource_id, created.body.id);

    const deleted = await system
      .http()
      .delete(`/api/ec2instance/${created.body.id}`)
      .set('Prefer', 'respond-async, wait=60');
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.status, 'deleted');
    assert.equal(await system.stateObjectStatus(created.body.id), 404);
  });
});

describe('failures', () => {
  test("a stack that fails to apply ends failed with Terraform's diagnostic, is not retried, and DELETE cleans it up", async () => {
    const system = await newSystem('fail');
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    assert.equal(created.status, 200, 'finished, but not created');
    assert.equal(created.body.status, 'failed');
    assert.match(created.body.error.message, /terraform apply failed: local-exec provisioner error/);
    assert.equal(created.body.error.retryable, false);
    const diagnostic = created.body.error.diagnostics.find(
      (d: { summary: string }) => d.summary === 'local-exec provisioner error',
    );
    assert.ok(diagnostic, JSON.stringify(created.body.error));
    assert.match(diagnostic.detail, /simulated failure: the instance did not pass its health check/);

    const job = (await system.http().get(`/api/jobs/${created.body.job.id}`)).body;
    assert.equal(job.status, 'failed');
    assert.equal(job.attempts, 1, 'a permanent failure is not retried');
    assert.deepEqual(job.error, created.body.error);
    // The workspace and its state are kept for a retry or a delete.
    assert.ok((await system.stateAddresses(created.body.id)).length > 0);

    const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`).set('Prefer', 'wait=60');
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.status, 'deleted', JSON.stringify(deleted.body.error));
    assert.equal(deleted.body.error, undefined);
    assert.equal(await system.stateObjectStatus(created.body.id), 404);
  });

  test('a failed create can be retried in its own workspace, and then becomes ready', async () => {
    const system = await newSystem('fail');
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 2 });
    assert.equal(created.body.status, 'failed');

    const retried = await system.http().post(`/api/ec2instance/${created.body.id}/retry`);
    assert.equal(retried.status, 202);
    assert.equal(retried.body.status, 'creating');
    assert.equal(retried.body.error, undefined);
    assert.notEqual(retried.body.job.id, created.body.job.id);
    const job = await system.waitForJob(retried.body.job.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));

    const stack = await system.stack(created.body.id);
    assert.equal(stack.status, 'ready');
    assert.equal((stack.outputs.private_ips as string[]).length, 2);
    assert.deepEqual(stack.inputs.node_count, 2);
    const again = await system.http().post(`/api/ec2instance/${created.body.id}/retry`);
    assert.equal(again.status, 409, 'a ready stack has nothing to retry');

    const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`).set('Prefer', 'wait=60');
    assert.equal(deleted.body.status, 'deleted');
    assert.equal(await system.stateObjectStatus(created.body.id), 404);
  });

  test('a delete that finds the state lock held is retried with backoff and succeeds once the lock is free', async () => {
    // A backoff long enough that the lock is surely released before the retry.
    const system = await startSystem({ worker: true, backoffMs: 2_000 });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    assert.equal(created.body.status, 'ready');
    await services().backend.holdStateLock(created.body.id, 'someone-else@elsewhere');

    const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`);
    const jobId: string = deleted.body.job.id;
    const requeued = await system.waitForJobRecord(
      jobId,
      (job) => job.error !== undefined,
      60_000,
      'not re-queued after a failed attempt',
    );
    assert.match(
      requeued.error?.message ?? '',
      /the state lock of workspace [0-9a-z]{16} is held by someone-else@elsewhere/,
    );
    assert.equal(requeued.error?.retryable, true);
    assert.equal((await system.stack(created.body.id)).status, 'deleting');
    await services().backend.releaseStateLock(created.body.id);

    const job = await system.waitForJob(jobId);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.attempts, 2);
    assert.equal(job.error, undefined);
    assert.equal((await system.stack(created.body.id)).status, 'deleted');
    assert.equal(await system.stateObjectStatus(created.body.id), 404);
  });

  for (const { mode, label, checkLog } of MODES) {
    test(`a create whose workspace already holds resources fails instead of adopting them, ${label}`, async () => {
      const system = await newSystem('ok', mode);
      const id = `collision${mode.padEnd(7, '0')}`;
      // Someone else's stack already lives in workspace `id`.
      const terraform = new Terraform({
        ...system.config.terraform,
        cwd: fixtureDir('ok'),
        dataDir: `${system.config.worker.workDir}/foreign-${system.config.redisPrefix}`,
        graceMs: 5_000,
      });
      await terraform.init();
      // Where a stack of this id keeps its state (see stackStatePrefix).
      const dataDir = await makeJobDataDir(
        terraform.settings.dataDir,
        stackStatePrefix(id),
        `${terraform.settings.dataDir}-${id}`,
      );
      const applied = await terraform.run(['apply', '-auto-approve', '-input=false', `-var=resource_id=${id}`], {
        workspace: id,
        ...(dataDir ? { dataDir } : {}),
      });
      assert.equal(applied.exitCode, 0, applied.stderr);
      const before = await system.stateAddresses(id);

      const jobId = `jcollision${mode.padEnd(6, '0')}`;
      await system.queueCreateByHand({ id, jobId, maxAttempts: 3 });

      const job = await system.waitForJob(jobId);
      assert.equal(job.status, 'failed');
      assert.match(job.error?.message ?? '', /already exists and tracks 1 resource\(s\); refusing to adopt/);
      assert.equal((await system.stack(id)).status, 'failed');
      assert.deepEqual(await system.stateAddresses(id), before, 'the existing state is untouched');
      assert.match(await system.store.logs.get(jobId), checkLog);
    });
  }
});
