// Ordering and concurrency: jobs of one stack never overlap and run in the
// order they were requested; different resources run in parallel across
// worker processes; a worker stopped mid-apply hands its job to another.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useSystems, type Fixture } from './support/harness.ts';

const [startSystem] = useSystems();
const newSystem = (fixture: Fixture) => startSystem({ fixture });

describe('per-resource ordering', () => {
  test('when a delete arrives during a create, it runs after it and the stack ends deleted', async () => {
    const system = await newSystem('slow');
    await system.startWorker();
    const created = await system.http().post('/api/ec2instance').send({});
    await system.waitForLog(created.body.job.id, 'Creating...');

    const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`);
    assert.equal(deleted.status, 202);
    assert.equal(deleted.body.status, 'deleting');
    const repeated = await system.http().delete(`/api/ec2instance/${created.body.id}`);
    assert.equal(repeated.body.job.id, deleted.body.job.id, 'a repeated DELETE returns the same job');

    const createJob = await system.waitForJob(created.body.job.id);
    assert.equal(createJob.status, 'succeeded');
    // The create's outputs are recorded, but the stack stays "deleting".
    assert.equal((await system.stack(created.body.id)).status, 'deleting');

    const deleteJob = await system.waitForJob(deleted.body.job.id);
    assert.equal(deleteJob.status, 'succeeded', JSON.stringify(deleteJob.error));
    assert.ok(
      deleteJob.started_at! >= createJob.finished_at!,
      `delete started ${deleteJob.started_at}, create finished ${createJob.finished_at}`,
    );
    assert.deepEqual(deleteJob.result?.changes, { add: 0, change: 0, remove: 1 });
    assert.equal((await system.stack(created.body.id)).status, 'deleted');
    assert.equal(await system.stateObjectStatus(created.body.id), 404);
  });

  test('a delete sent before the create has started cancels it, so Terraform never runs for that stack', async () => {
    const system = await newSystem('slow');
    const created = await system.http().post('/api/ec2instance').send({});
    const waiting = system.http().post('/api/ec2instance').set('Prefer', 'wait=30').send({});
    const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.status, 'deleted');

    // A worker that starts afterwards runs the other stack and nothing of this one.
    await system.startWorker();
    const other = await waiting;
    assert.equal(other.status, 201);
    const createJob = await system.store.jobs.get(created.body.job.id);
    assert.equal(createJob?.status, 'cancelled');
    assert.equal(createJob?.attempts, 0, 'the cancelled create never ran');
    assert.equal(await system.stateObjectStatus(created.body.id), 404, 'no workspace was ever made');
    assert.equal((await system.stack(created.body.id)).status, 'deleted');
  });

  test('a create the worker has already picked up is not cancelled: the delete waits and destroys it', async () => {
    const system = await newSystem('slow');
    await system.startWorker();
    const created = await system.http().post('/api/ec2instance').send({});
    await system.waitForJobRunning(created.body.job.id);
    const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`);
    assert.equal(deleted.status, 202);
    assert.equal(deleted.body.status, 'deleting');
    const deleteJob = await system.waitForJob(deleted.body.job.id);
    const createJob = await system.waitForJob(created.body.job.id);
    assert.equal(createJob.status, 'succeeded');
    assert.equal(deleteJob.status, 'succeeded');
    assert.ok(deleteJob.started_at! >= createJob.finished_at!);
    assert.equal(await system.stateObjectStatus(created.body.id), 404);
  });
});

describe('concurrency', () => {
  test('20 concurrent creates across two worker processes all become ready, each in its own workspace', async () => {
    const system = await newSystem('ok');
    const workers = await Promise.all([system.spawnWorker(), system.spawnWorker()]);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        system
          .http()
          .post('/api/ec2instance')
          .send({ tags: { n: String(i) } }),
      ),
    );
    assert.ok(responses.every((r) => r.status === 202));
    const jobs = await Promise.all(responses.map((r) => system.waitForJob(r.body.job.id, 120_000)));
    assert.deepEqual(
      jobs.map((j) => j.status),
      Array(20).fill('succeeded'),
    );

    const ids = responses.map((r) => r.body.id as string);
    assert.equal(new Set(ids).size, 20);
    for (const id of ids) {
      const stack = await system.stack(id);
      assert.equal(stack.status, 'ready');
      assert.equal(stack.outputs.resource_id, id);
      assert.deepEqual(await system.stateAddresses(id), ['terraform_data.instance[0]']);
    }
    // Both processes did work.
    const logs = await Promise.all(jobs.map((j) => system.store.logs.get(j.id)));
    for (const worker of workers) {
      assert.ok(
        logs.some((log) => log.includes(`worker ${worker.workerId}`)),
        `worker ${worker.workerId} ran jobs`,
      );
    }
  });
});

describe('shutdown', () => {
  test('a worker sent SIGTERM mid-apply stops Terraform cleanly, and another worker finishes the stack', async () => {
    const system = await newSystem('slow');
    const first = await system.spawnWorker();
    const created = await system.http().post('/api/ec2instance').send({ node_count: 2 });
    await system.waitForLog(created.body.job.id, 'Creating...');

    assert.equal(await first.signal('SIGTERM'), 0, 'the worker exits cleanly');
    const interrupted = await system.store.jobs.get(created.body.job.id);
    assert.equal(interrupted?.status, 'queued', 'the job went back to the queue');
    assert.equal((await system.stack(created.body.id)).status, 'creating');

    const second = await system.spawnWorker();
    const job = await system.waitForJob(created.body.job.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.attempts, 2);
    const log = await system.store.logs.get(job.id);
    assert.match(log, /Interrupt received/);
    assert.ok(log.includes(`worker ${second.workerId}`));
    const stack = await system.stack(created.body.id);
    assert.equal(stack.status, 'ready');
    assert.equal(stack.outputs.private_ips && (stack.outputs.private_ips as unknown[]).length, 2);
    assert.deepEqual(await system.stateAddresses(created.body.id), [
      'terraform_data.instance[0]',
      'terraform_data.instance[1]',
    ]);
  });
});
