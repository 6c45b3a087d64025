// One apply at a time on a workspace, whatever fails: a worker cut off from
// Redis stops its own Terraform and reports nothing, and no other worker
// takes the workspace's state lock until the holder is proven gone.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { S3State } from '../worker/terraform/s3-state.ts';
import { acquireStateLock, LockHeldError } from '../worker/terraform/state-lock.ts';
import { ConditionalS3 } from './support/conditional-s3.ts';
import { FaultProxy } from './support/fault-proxy.ts';
import { useSystems } from './support/harness.ts';
import { LOCK_TABLE, STATE_BUCKET, STATE_KEY, writeBackendConfig } from './support/local-services.ts';
import { watchTerraform } from './support/terraform-processes.ts';

const [startSystem, services] = useSystems();

describe('a worker partitioned from Redis in the middle of an apply', () => {
  test('interrupts its Terraform and reports nothing; the other worker applies once it has stopped, and the stack ends ready with its state intact', async (t) => {
    const proxy = new FaultProxy(services().redis.url);
    const proxied = (await proxy.start()).replace(/^http:/, 'redis:');
    t.after(() => proxy.stop());
    const system = await startSystem({
      fixture: 'slow',
      env: { TF_VAR_sleep_seconds: '2', SHUTDOWN_GRACE_SECONDS: '3' },
    });
    const cut = await system.spawnWorker({ env: { REDIS_URL: proxied } });
    const created = await system.http().post('/api/ec2instance').send({ node_count: 3 });
    const id: string = created.body.id;
    const jobId: string = created.body.job.id;
    await system.waitForLog(jobId, /instance\[0\]: Creation complete/);

    const applies = watchTerraform(id, /^apply$/);
    proxy.set({ kind: 'down' });
    // The other worker, with Redis, finds the job stalled once the lease is out.
    await system.startWorker();
    const stack = await system.waitForStack(id, (r) => r.status === 'ready' || r.status === 'failed', 90_000);
    proxy.set({ kind: 'none' });
    // Back in touch, the cut-off worker renews its lease: whatever it had
    // left to say has reached Redis by then.
    while (!(await system.store.leases.isAlive(cut.workerId))) await new Promise((resolve) => setTimeout(resolve, 50));
    const { most, samples } = await applies.stop();
    t.diagnostic(`fencing: at most ${most} terraform apply at once over ${samples} samples`);
    assert.equal(most, 1, 'never two applies on the workspace');
    const fenced = cut.logs.find((entry) => entry.msg === 'worker lease lost; interrupting its jobs');
    assert.ok(fenced, 'the cut-off worker interrupted its jobs');
    t.diagnostic(
      `fencing: the cut-off worker fenced itself ${String(fenced.sinceRenewalMs)} ms after its last lease renewal`,
    );
    assert.equal(stack.status, 'ready', JSON.stringify(stack.error));
    const job = await system.store.jobs.get(jobId);
    assert.equal(job?.status, 'succeeded');
    assert.deepEqual(
      (await system.stack(id)).outputs.private_ips,
      ['10.0.0.10', '10.0.1.11', '10.0.2.12'],
      'the result stands',
    );
    assert.equal((await system.stateAddresses(id)).length, 3, 'the state holds all three instances');
    assert.deepEqual(await system.services.backend.lockHolders(), [], 'the lock is released');
    assert.ok(
      cut.logs.some((entry) => entry.msg === 'job fenced; its result is not reported' && entry.jobId === jobId),
    );
  });
});

describe('a state lock left by a tfcompute job', () => {
  const timing = { heartbeatMs: 100, staleAfterMs: 1_500 };
  const owner = { workerId: 'w2', jobId: 'aaaaaaaaaaaaaaaa', operation: 'apply' } as const;
  const holder = (jobId: string, workerId: string, heartbeatAgoMs: number) => ({
    info: `tfcompute job ${jobId} on worker ${workerId}`,
    heartbeatMs: Date.now() - heartbeatAgoMs,
  });

  async function lockFixture(
    t: TestContext,
    held: { info: string; heartbeatMs: number },
    alive: { worker: boolean; jobOver: boolean },
  ) {
    const backend = services().backend;
    const s3State = new S3State(
      {
        bucket: STATE_BUCKET,
        key: STATE_KEY,
        region: 'us-east-1',
        dynamodb_table: LOCK_TABLE,
        endpoints: { s3: backend.s3Endpoint, dynamodb: backend.dynamodbEndpoint },
        use_path_style: true,
      },
      backend.env,
    );
    t.after(() => s3State.close());
    const workspace = `lock${Math.random().toString(36).slice(2, 14)}`;
    await backend.holdStateLock(
      workspace,
      'tfcompute-worker@w1',
      { Info: held.info, Heartbeat: held.heartbeatMs },
      'env:',
    );
    const lines: string[] = [];
    const deps = {
      s3State,
      timing,
      isWorkerAlive: async () => alive.worker,
      isJobOver: async () => alive.jobOver,
      log: (text: string) => lines.push(text),
      onLost: () => undefined,
    };
    return { workspace, deps, lines };
  }

  test('is not taken while its heartbeat goes on, even when its worker lease and BullMQ say the worker is gone', async (t) => {
    const { workspace, deps } = await lockFixture(t, holder('bbbbbbbbbbbbbbbb', 'w1', 0), {
      worker: false,
      jobOver: false,
    });
    await assert.rejects(
      acquireStateLock(deps, workspace, owner),
      (error: unknown) => error instanceof LockHeldError && error.ours,
    );
  });

  test('is taken once its heartbeat has been quiet for the lease and the grace, naming why', async (t) => {
    const { workspace, deps, lines } = await lockFixture(t, holder('bbbbbbbbbbbbbbbb', 'w1', 2_000), {
      worker: false,
      jobOver: false,
    });
    const release = await acquireStateLock(deps, workspace, owner);
    await release();
    assert.match(
      lines.join('\n'),
      /Released a stale state lock left by tfcompute-worker@w1: worker w1 has not renewed it for 2 s \(job bbbbbbbbbbbbbbbb\)/,
    );
  });

  test('is not taken after a short silence while its job has not ended, but is once the job has', async (t) => {
    const quiet = holder('bbbbbbbbbbbbbbbb', 'w1', 500);
    const running = await lockFixture(t, quiet, { worker: false, jobOver: false });
    await assert.rejects(acquireStateLock(running.deps, running.workspace, owner), LockHeldError);
    const ended = await lockFixture(t, quiet, { worker: true, jobOver: true });
    await (await acquireStateLock(ended.deps, ended.workspace, owner))();
    assert.match(ended.lines.join('\n'), /its job bbbbbbbbbbbbbbbb has finished/);
  });

  test('held by someone other than tfcompute is never taken, and the job does not wait for it as for its own', async (t) => {
    const { workspace, deps } = await lockFixture(
      t,
      { info: '', heartbeatMs: Date.now() - 60_000 },
      { worker: false, jobOver: true },
    );
    await assert.rejects(
      acquireStateLock(deps, workspace, owner),
      (error: unknown) => error instanceof LockHeldError && !error.ours,
    );
  });
});

describe('S3 lock files (use_lockfile, no lock table)', () => {
  test("a worker killed mid-apply leaves its lock file; the next job recognises it as a dead worker's, removes it and runs", async (t) => {
    const s3 = new ConditionalS3(services().backend.s3Endpoint);
    const file = path.join(services().dir, `backend-lockfile-${Math.random().toString(36).slice(2)}.hcl`);
    await writeBackendConfig(file, await s3.start(), undefined, ['use_lockfile = true']);
    t.after(() => s3.stop());
    // A short grace: the lock goes stale once its heartbeat has been quiet for a lease and the grace.
    const system = await startSystem({
      fixture: 'slow',
      env: { TF_BACKEND_CONFIG: file, TF_VAR_sleep_seconds: '2', SHUTDOWN_GRACE_SECONDS: '2' },
    });
    const doomed = await system.spawnWorker();
    const created = await system.http().post('/api/ec2instance').send({ node_count: 2 });
    const id: string = created.body.id;
    const jobId: string = created.body.job.id;
    const lockFile = `${system.services.backend.stateObjectUrl(id)}.tflock`;
    await system.waitForLog(jobId, /instance\[0\]: Creation complete/);
    await doomed.signal('SIGKILL');
    assert.equal((await fetch(lockFile, { method: 'HEAD' })).status, 200, 'the dead worker left its lock file');

    await system.startWorker();
    const job = await system.waitForJob(jobId, 90_000);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.match(
      await system.store.logs.get(jobId),
      new RegExp(
        `Released a stale state lock left by tfcompute-worker@${doomed.workerId}: worker ${doomed.workerId} has not renewed it`,
      ),
    );
    assert.equal((await fetch(lockFile, { method: 'HEAD' })).status, 404, 'no lock file is left');
    assert.equal((await system.stateAddresses(id)).length, 2);
  });
});

describe('a lock table and lock files both (as Terraform takes both when both are set)', () => {
  test('a job takes both and releases both; a lock file held by someone else leaves no table lock behind', async (t) => {
    const backend = services().backend;
    const s3 = new ConditionalS3(backend.s3Endpoint);
    const s3Endpoint = await s3.start();
    t.after(() => s3.stop());
    const s3State = new S3State(
      {
        bucket: STATE_BUCKET,
        key: STATE_KEY,
        region: 'us-east-1',
        dynamodb_table: LOCK_TABLE,
        use_lockfile: true,
        endpoints: { s3: s3Endpoint, dynamodb: backend.dynamodbEndpoint },
        use_path_style: true,
      },
      backend.env,
    );
    t.after(() => s3State.close());
    const deps = {
      s3State,
      timing: { heartbeatMs: 50, staleAfterMs: 1_000 },
      isWorkerAlive: async () => true,
      isJobOver: async () => false,
      log: () => undefined,
      onLost: () => undefined,
    };
    const owner = { workerId: 'w1', jobId: 'cccccccccccccccc', operation: 'apply' } as const;
    const workspace = `both${Math.random().toString(36).slice(2, 14)}`;
    const lockFile = `${backend.stateObjectUrl(workspace, 'env:')}.tflock`;

    const release = await acquireStateLock(deps, workspace, owner);
    assert.equal((await fetch(lockFile, { method: 'HEAD' })).status, 200, 'the lock file');
    assert.equal(
      (await backend.lockHolders()).filter((l) => l.LockID === s3State.lockId(workspace)).length,
      1,
      'the table lock',
    );
    await new Promise((resolve) => setTimeout(resolve, 120));
    await release();
    assert.equal((await fetch(lockFile, { method: 'HEAD' })).status, 404);
    assert.deepEqual(
      (await backend.lockHolders()).filter((l) => l.LockID === s3State.lockId(workspace)),
      [],
    );

    const human = JSON.stringify({
      ID: 'by-hand',
      Operation: 'OperationTypeApply',
      Info: '',
      Who: 'alice@laptop',
      Version: '1.11.4',
      Created: new Date().toISOString(),
      Path: s3State.lockId(workspace),
    });
    assert.equal((await fetch(lockFile, { method: 'PUT', body: human })).status, 200);
    await assert.rejects(
      acquireStateLock(deps, workspace, owner),
      (error: unknown) => error instanceof LockHeldError && !error.ours && /alice@laptop/.test(error.message),
    );
    assert.deepEqual(
      (await backend.lockHolders()).filter((l) => l.LockID === s3State.lockId(workspace)),
      [],
      'no table lock is left',
    );
  });
});
