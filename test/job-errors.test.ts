// What a job's `error` and a delivery's `error` tell their readers: a stable
// code and a message that says what happened and what to do, Terraform's
// diagnostics kept; and what they must not tell (endpoints, local paths, SDK
// errors, what a receiver's name resolves to), which only the worker's log has.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../core/config.ts';
import { JobFailure } from '../worker/job-failure.ts';
import { startWorker } from '../worker/worker.ts';
import { FaultProxy } from './support/fault-proxy.ts';
import { useSystems, type TestSystem } from './support/harness.ts';
import { writeBackendConfig } from './support/local-services.ts';
import { captureLogs } from './support/log-capture.ts';
import { EVENTS_ENV, Receiver } from './support/receiver.ts';

const [startSystem, services] = useSystems();

// A worker in this process whose log the test reads.
async function loggedWorker(t: TestContext, system: TestSystem, env: Record<string, string> = {}) {
  const logs = captureLogs();
  const worker = await startWorker(loadConfig({ ...system.env, LOG_LEVEL: 'trace', ...env }), logs.logger());
  t.after(() => worker.stop());
  return logs;
}

describe("a job's error", () => {
  test("a create whose state backend is down fails as state-backend-unavailable, naming no endpoint, path or SDK error; the worker's log has them, with the job's id", async (t) => {
    const { backend, dir } = services();
    const proxies = [new FaultProxy(backend.s3Endpoint), new FaultProxy(backend.dynamodbEndpoint)];
    const [s3, dynamo] = await Promise.all(proxies.map((p) => p.start()));
    t.after(() => Promise.all(proxies.map((p) => p.stop())));
    const file = path.join(dir, `backend-down-${Math.random().toString(36).slice(2)}.hcl`);
    await writeBackendConfig(file, s3!, dynamo, ['max_retries = 1']);
    const system = await startSystem({ attempts: 1, env: { TF_BACKEND_CONFIG: file } });
    const logs = await loggedWorker(t, system);
    for (const proxy of proxies) proxy.set({ kind: 'down' });

    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    assert.equal(created.body.status, 'failed');
    const { error } = (await system.http().get(`/api/jobs/${created.body.job.id}`)).body;
    assert.deepEqual(created.body.error, error, "the stack's error is its job's");
    assert.equal(error.code, 'state-backend-unavailable');
    assert.equal(error.retryable, true);
    assert.match(error.message, /the state backend could not be reached/);
    const told = JSON.stringify(error);
    for (const secret of [
      s3!,
      dynamo!,
      new URL(s3!).port,
      new URL(dynamo!).port,
      dir,
      system.config.worker.workDir,
      tmpdir(),
    ]) {
      assert.ok(!told.includes(secret), `the error does not name ${secret}: ${told}`);
    }
    assert.doesNotMatch(told, /ECONN|socket hang up|request ?id|\$metadata|http:/i);
    const logged = await logs.waitFor(
      new RegExp(`"jobId":"${created.body.job.id}".*"code":"state-backend-unavailable"`),
    );
    assert.match(logged, /ECONNRESET|socket hang up|ECONNREFUSED/, 'the raw error is in the log');
  });

  test("a Terraform failure is terraform-failed and keeps Terraform's diagnostics", async () => {
    const system = await startSystem({ fixture: 'fail', worker: true });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    assert.equal(created.body.status, 'failed');
    assert.equal(created.body.error.code, 'terraform-failed');
    assert.match(created.body.error.message, /terraform apply failed: local-exec provisioner error/);
    const diagnostic = created.body.error.diagnostics.find(
      (d: { summary: string }) => d.summary === 'local-exec provisioner error',
    );
    assert.match(diagnostic?.detail ?? '', /simulated failure: the instance did not pass its health check/);
  });

  test("an error recorded before codes existed reads as terraform-failed when Terraform's diagnostics hold an error, internal otherwise", async () => {
    const system = await startSystem({ fixture: 'fail', worker: true });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    const { code, ...old } = created.body.error;
    assert.equal(code, 'terraform-failed');
    const readAs = async (error: object) => {
      await system.redis.hset(
        `${system.config.redisPrefix}:job:${created.body.job.id}`,
        'error',
        JSON.stringify(error),
      );
      return (await system.http().get(`/api/jobs/${created.body.job.id}`)).body.error.code;
    };
    assert.equal(await readAs(old), 'terraform-failed');
    assert.equal(
      await readAs({ message: 'the workers running this job died 2 times', retryable: true, diagnostics: [] }),
      'internal',
    );
  });

  test("an AWS SDK error is state-backend-unavailable and any other unexpected error internal; neither's own words reach the message", async (t) => {
    const s3 = new S3Client({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' },
    });
    t.after(() => s3.destroy());
    const sdkError = await s3
      .send(new GetObjectCommand({ Bucket: 'tfstate-123456789012', Key: 'state' }))
      .catch((error: unknown) => error);
    const fsError = await readFile(path.join(tmpdir(), 'tfcompute-work', 'missing')).catch((error: unknown) => error);
    const backend = JobFailure.from(sdkError);
    assert.equal(backend.detail.code, 'state-backend-unavailable');
    assert.equal(backend.cause, sdkError, 'kept for the log');
    const unexpected = JobFailure.from(fsError);
    assert.equal(unexpected.detail.code, 'internal');
    assert.equal(unexpected.detail.retryable, true);
    for (const { message } of [backend.detail, unexpected.detail])
      assert.doesNotMatch(message, /127\.0\.0\.1|ECONNREFUSED|123456789012|AKIA|tfcompute-work|ENOENT/);
  });

  test('a state lock held by someone else is lock-held, and names its holder', async () => {
    const system = await startSystem({ worker: true, attempts: 1 });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({});
    assert.equal(created.body.status, 'ready');
    await services().backend.holdStateLock(created.body.id, 'someone-else@elsewhere');

    const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`).set('Prefer', 'wait=60');
    assert.equal(deleted.body.status, 'delete_failed');
    assert.equal(deleted.body.error.code, 'lock-held');
    assert.match(deleted.body.error.message, /is held by someone-else@elsewhere/);
    await services().backend.releaseStateLock(created.body.id);
  });
});

describe("a delivery's error", () => {
  test("a delivery to a name that resolves to loopback is refused without saying to what; the worker's log says, with the delivery's id", async (t) => {
    const system = await startSystem({ env: EVENTS_ENV });
    const logs = await loggedWorker(t, system, { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
    const receiver = await new Receiver().start();
    t.after(() => receiver.stop());
    const webhook = await system
      .http()
      .post('/api/webhooks')
      .send({ url: receiver.url.replace('127.0.0.1', 'localhost') });
    const ping = await system.http().post(`/api/webhooks/${webhook.body.id}/ping`);

    const logged = await logs.waitFor(new RegExp(`"deliveryId":"${ping.body.id}".*"msg":"delivery refused`));
    assert.match(logged, /localhost resolves to (127\.0\.0\.1|::1)/);
    const delivery = (await system.http().get(`/api/webhooks/${webhook.body.id}/deliveries/${ping.body.id}`)).body;
    assert.equal(delivery.status, 'failed');
    assert.match(delivery.error, /^refused: the receiver's address is not allowed/);
    assert.doesNotMatch(JSON.stringify(delivery), /127\.0\.0\.1|::1|loopback|resolves/);
    assert.equal(receiver.requests.length, 0, 'nothing reached the receiver');
  });
});
