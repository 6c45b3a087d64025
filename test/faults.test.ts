// Faults that must lose nothing: a worker killed mid-run, Redis restarted
// under load, a state backend that is down, slow or resetting connections.
// Each test reports its figures as a diagnostic line starting "fault:".
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { access, mkdtemp, open, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { createLogger } from '../core/logger.ts';
import { createQueue } from '../core/queue.ts';
import { startRedis, writeBackendConfig } from './support/local-services.ts';
import { sweepUnqueuedCreates } from '../worker/jobs/sweeper.ts';
import { FaultProxy, type Toxic } from './support/fault-proxy.ts';
import { terraformProcesses } from './support/terraform-processes.ts';
import { assertProblem, useSystems, type TestSystem } from './support/harness.ts';

const [startSystem, services] = useSystems();

// What a fault left behind: state objects per stack, held locks.
async function audit(system: TestSystem, ids: string[]): Promise<{ workspaces: Map<string, number>; locks: number }> {
  const keys = await system.services.backend.listStateKeys();
  const workspaces = new Map(ids.map((id) => [id, keys.filter((key) => key.includes(`/${id}/`)).length]));
  return { workspaces, locks: (await system.services.backend.lockHolders()).length };
}

function report(
  t: TestContext,
  figures: { faults: number; resources: number; lost: number; orphaned: number; stuckLocks: number },
): void {
  t.diagnostic(
    `fault: ${Object.entries(figures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
}

describe('a worker killed with SIGKILL', () => {
  const points = [
    { name: 'as soon as its create is running', action: 'create', at: 'running' },
    { name: 'while a provisioner of the first instance runs', action: 'create', at: /Provisioning with 'local-exec'/ },
    { name: 'after the first instance was created', action: 'create', at: /instance\[\d\]: Creation complete/ },
    { name: 'in the middle of a destroy', action: 'delete', at: /Destroying\.\.\./ },
  ] as const;

  for (const point of points) {
    test(`${point.name}: the job is recovered, the dead worker's lock released, and the stack ends with exactly one workspace`, async (t) => {
      // A short grace: a dead worker's lock is taken once its heartbeat has
      // been quiet for a lease and the grace (see state-lock.ts).
      const system = await startSystem({
        fixture: 'slow',
        env: { TF_VAR_sleep_seconds: '2', SHUTDOWN_GRACE_SECONDS: '1' },
      });
      const doomed = await system.spawnWorker();
      const created = await system.http().post('/api/ec2instance').send({ node_count: 2 });
      const id: string = created.body.id;
      let jobId: string = created.body.job.id;
      if (point.action === 'delete') {
        assert.equal((await system.waitForJob(jobId)).status, 'succeeded');
        jobId = (await system.http().delete(`/api/ec2instance/${id}`)).body.job.id;
      }
      if (point.at === 'running') await system.waitForJobRunning(jobId);
      else await system.waitForLog(jobId, point.at);
      const running = await terraformProcesses(id);

      await doomed.signal('SIGKILL');
      // Terraform dies with its worker (parent-death signal).
      const deadline = Date.now() + 5_000;
      while ((await terraformProcesses(id)).length > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(await terraformProcesses(id), [], 'no Terraform outlives its worker');
      const left = await system.services.backend.lockHolders();
      if (running.length > 0) {
        assert.equal(left.length, 1, 'the dead worker left its state lock');
        assert.equal(
          left[0]?.Info,
          `tfcompute job ${jobId} on worker ${doomed.workerId}`,
          'the lock names the worker and the job',
        );
      }

      await system.startWorker();
      const job = await system.waitForJob(jobId, 90_000);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.ok(job.attempts >= 2, 'the job ran again');
      const stack = await system.stack(id);
      const after = await audit(system, [id]);
      if (point.action === 'create') {
        assert.equal(stack.status, 'ready');
        assert.deepEqual(stack.outputs.private_ips, ['10.0.0.10', '10.0.1.11']);
        assert.equal(after.workspaces.get(id), 1, 'exactly one workspace');
        assert.equal((await system.stateAddresses(id)).length, 2);
      } else {
        assert.equal(stack.status, 'deleted');
        assert.equal(after.workspaces.get(id), 0, 'the workspace is gone');
      }
      assert.equal(after.locks, 0, 'no lock is left');
      if (left.length > 0)
        assert.match(
          await system.store.logs.get(jobId),
          new RegExp(
            `Released a stale state lock left by tfcompute-worker@${doomed.workerId}: worker ${doomed.workerId} has not renewed it for \\d+ s`,
          ),
        );
      report(t, { faults: 1, resources: 1, lost: 0, orphaned: 0, stuckLocks: after.locks });
    });
  }
});

describe('Redis restarted during a burst of creates', () => {
  test('no accepted resource is lost; while Redis is down the API answers 503 within seconds and then recovers by itself', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-aof-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    let redis = await startRedis(dir, { appendonly: true });
    t.after(() => redis.stop());
    const system = await startSystem({ fixture: 'ok', worker: true, concurrency: 4, env: { REDIS_URL: redis.url } });

    const accepted = new Set<string>();
    const refused: number[] = [];
    let sent = 0;
    const phase = { restarted: false };
    // Six clients, each sending creates one after another with an Idempotency-Key,
    // retrying a refused one as a well-behaved client does.
    const client = async (n: number) => {
      for (let i = 0; i < 12; i += 1) {
        const key = `burst-${n}-${i}`;
        for (;;) {
          sent += 1;
          const started = performance.now();
          const res = await system
            .http()
            .post('/api/ec2instance')
            .set('Idempotency-Key', key)
            .send({ tags: { key } })
            .timeout(10_000);
          if (res.status === 202) {
            accepted.add(res.body.id);
            break;
          }
          assert.equal(res.status, 503, res.text);
          assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
          refused.push(performance.now() - started);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        if (n === 0 && i === 3 && !phase.restarted) {
          phase.restarted = true;
          await redis.stop();
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          redis = await startRedis(dir, { port: redis.port, appendonly: true });
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, n) => client(n)));

    assert.equal(accepted.size, 72, 'every create was accepted in the end');
    assert.ok(refused.length > 0, 'some requests met Redis down');
    assert.ok(Math.max(...refused) < 3_000, `503s came within 3 s (slowest ${Math.round(Math.max(...refused))} ms)`);
    const burstEnded = Date.now();
    const deadline = burstEnded + Number(process.env.BURST_DEADLINE_MS ?? 240_000);
    const stuck: string[] = [];
    for (const id of accepted) {
      try {
        const stack = await system.waitForStackStatus(id, 'ready', Math.max(1, deadline - Date.now()));
        assert.equal(stack.outputs.resource_id, id);
      } catch (error) {
        const stack = await system.stack(id);
        stuck.push(
          JSON.stringify({
            error: String(error),
            stack,
            job: await system.store.jobs.get(stack.job.id),
            log: await system.store.logs.get(stack.job.id),
          }),
        );
      }
    }
    assert.deepEqual(stuck, [], 'every accepted resource became ready');
    // Nothing else was created: no duplicate from a retried request, no
    // stack left behind by a refused one.
    assert.equal(await system.store.stacks.count(), accepted.size);
    const after = await audit(system, [...accepted]);
    assert.ok(
      [...after.workspaces.values()].every((n) => n === 1),
      'one workspace each',
    );
    assert.equal(after.locks, 0);
    t.diagnostic(
      `redis restart: ${sent} requests, ${refused.length} refused with 503, ${accepted.size} accepted, all ready ${Date.now() - burstEnded} ms after the burst`,
    );
    report(t, { faults: 1, resources: accepted.size, lost: 0, orphaned: 0, stuckLocks: after.locks });
  });
});

describe('a create whose job never reached the queue', () => {
  // What the API leaves when Redis goes away between recording a stack
  // and queueing its job, and the undo fails too: simulated by removing the job.
  test('is removed by the sweep after its grace period, unless a retry with its Idempotency-Key queued it', async () => {
    const system = await startSystem();
    const queue = createQueue(system.redis, system.config.redisPrefix);
    const deps = { store: system.store, queue, logger: createLogger('silent', 'test') };
    try {
      const lost = await system.http().post('/api/ec2instance').set('Idempotency-Key', 'lost-1').send({});
      const retried = await system.http().post('/api/ec2instance').set('Idempotency-Key', 'retried-1').send({});
      const fresh = await system.http().post('/api/ec2instance').send({});
      for (const res of [lost, retried]) await queue.remove(res.body.job.id);

      // The client retries with the same key: the job is queued now.
      const again = await system.http().post('/api/ec2instance').set('Idempotency-Key', 'retried-1').send({});
      assert.equal(again.body.id, retried.body.id);
      assert.ok(await queue.getJob(retried.body.job.id), 'the replay queued the missing job');

      assert.deepEqual(await sweepUnqueuedCreates(deps, 60_000), [], 'nothing within the grace period');
      assert.deepEqual(await sweepUnqueuedCreates(deps, 0), [lost.body.id]);
      assertProblem(await system.http().get(`/api/ec2instance/${lost.body.id}`), 404, 'resource-not-found');
      for (const kept of [retried, fresh]) assert.equal((await system.stack(kept.body.id)).status, 'creating');

      // The key of the removed one makes a new stack, not a 404.
      const later = await system.http().post('/api/ec2instance').set('Idempotency-Key', 'lost-1').send({});
      assert.equal(later.status, 202);
      assert.notEqual(later.body.id, lost.body.id);
    } finally {
      await queue.close();
    }
  });
});

describe('a state backend that is down, slow or resetting connections', () => {
  // Terraform and the worker reach S3 and DynamoDB through fault-injecting proxies.
  async function proxiedSystem(t: TestContext, fixture: 'ok' | 'slow') {
    const backend = services().backend;
    const s3 = new FaultProxy(backend.s3Endpoint);
    const dynamo = new FaultProxy(backend.dynamodbEndpoint);
    const file = path.join(services().dir, `backend-proxied-${Math.random().toString(36).slice(2)}.hcl`);
    // One SDK retry, so a test of an outage does not wait out five.
    await writeBackendConfig(file, await s3.start(), await dynamo.start(), ['max_retries = 1']);
    t.after(async () => {
      await s3.stop();
      await dynamo.stop();
    });
    const system = await startSystem({
      fixture,
      worker: true,
      attempts: 2,
      backoffMs: 500,
      env: { TF_BACKEND_CONFIG: file, TF_VAR_sleep_seconds: '2' },
    });
    const set = (toxic: Toxic) => {
      s3.set(toxic);
      dynamo.set(toxic);
    };
    return { system, set, proxies: [s3, dynamo] };
  }

  async function assertHealthyState(system: TestSystem, id: string, instances: number): Promise<void> {
    const response = await fetch(system.services.backend.stateObjectUrl(id));
    assert.equal(response.status, 200);
    const state = (await response.json()) as { version: number; lineage: string; serial: number };
    assert.equal(state.version, 4, 'the state parses and is Terraform state');
    assert.equal((await system.stateAddresses(id)).length, instances);
    assert.deepEqual(await system.services.backend.lockHolders(), [], 'no lock is left');
  }

  test('down: the create fails with a clear error and no state; once it is back, a retry succeeds', async (t) => {
    const { system, set, proxies } = await proxiedSystem(t, 'ok');
    set({ kind: 'down' });
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 2 });
    assert.equal(created.status, 200);
    assert.equal(created.body.status, 'failed');
    assert.equal(created.body.error.code, 'state-backend-unavailable');
    assert.match(
      created.body.error.message,
      /could not lock workspace [0-9a-z]{16}: the state backend could not be reached/,
    );
    assert.equal(created.body.error.retryable, true);
    assert.equal((await system.store.jobs.get(created.body.job.id))?.attempts, 2, 'retried, then failed');
    assert.equal(await system.stateObjectStatus(created.body.id), 404, 'nothing was written');
    assert.ok(
      proxies.some((p) => p.connections.down > 0),
      'the backend was tried',
    );

    set({ kind: 'none' });
    const retried = await system.http().post(`/api/ec2instance/${created.body.id}/retry`).set('Prefer', 'wait=60');
    assert.equal(retried.body.status, 'ready', JSON.stringify(retried.body.error));
    await assertHealthyState(system, created.body.id, 2);
    report(t, { faults: 1, resources: 1, lost: 0, orphaned: 0, stuckLocks: 0 });
  });

  test('slow: with 300 ms added to every packet the create still succeeds', async (t) => {
    const { system, set, proxies } = await proxiedSystem(t, 'ok');
    set({ kind: 'latency', ms: 300 });
    const started = Date.now();
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=120').send({});
    assert.equal(created.body.status, 'ready', JSON.stringify(created.body.error));
    assert.ok(
      proxies.every((p) => p.connections.latency > 0),
      'the traffic went through the slow proxies',
    );
    t.diagnostic(`latency: create took ${Date.now() - started} ms`);
    set({ kind: 'none' });
    await assertHealthyState(system, created.body.id, 1);
    const deleted = await system.http().delete(`/api/ec2instance/${created.body.id}`).set('Prefer', 'wait=60');
    assert.equal(deleted.body.status, 'deleted');
    report(t, { faults: 1, resources: 1, lost: 0, orphaned: 0, stuckLocks: 0 });
  });

  test('reset mid-apply: Terraform cannot save state, the state it kept is pushed once the backend is back, and nothing is made twice', async (t) => {
    const { system, set } = await proxiedSystem(t, 'slow');
    const created = await system.http().post('/api/ec2instance').send({ node_count: 2 });
    const id: string = created.body.id;
    const jobId: string = created.body.job.id;
    await system.waitForLog(jobId, /instance\[0\]: Creation complete/);
    set({ kind: 'reset_peer' });
    const failed = await system.waitForJob(jobId, 90_000);
    assert.equal(failed.status, 'failed');
    assert.match(
      failed.error?.message ?? '',
      /could not save the state to the backend; it is kept|the state backend could not be reached/,
    );

    set({ kind: 'none' });
    const retried = await system.http().post(`/api/ec2instance/${id}/retry`).set('Prefer', 'wait=90');
    assert.equal(retried.body.status, 'ready', JSON.stringify(retried.body.error));
    const log = await system.store.logs.get(retried.body.job.id);
    const failedLog = await system.store.logs.get(jobId);
    t.diagnostic(`reset: the failed job said "${failed.error?.message}"`);
    assert.match(failedLog, /Failed to save state/);
    assert.match(failedLog, /it is kept on worker/);
    assert.match(log, /Pushed the state an earlier run could not save/);
    assert.match(
      log,
      /Resources: 0 added/,
      'the retry found both instances in the pushed state and made nothing twice',
    );
    await assert.rejects(
      access(path.join(system.config.templates.singleDir, 'errored.tfstate')),
      'no errored.tfstate is left in the configuration directory',
    );
    await assertHealthyState(system, id, 2);
    report(t, { faults: 1, resources: 1, lost: 0, orphaned: 0, stuckLocks: 0 });
  });
  test('two applies that cannot save state at once each keep their own, and both are pushed once the backend is back', async (t) => {
    const { system, set } = await proxiedSystem(t, 'slow');
    const created = await Promise.all([0, 1].map(() => system.http().post('/api/ec2instance').send({ node_count: 2 })));
    const stacks = created.map((res) => ({ id: res.body.id as string, jobId: res.body.job.id as string }));
    await Promise.all(stacks.map(({ jobId }) => system.waitForLog(jobId, /instance\[0\]: Creation complete/)));
    // Terraform writes errored.tfstate where it runs: each job runs in a directory of its own.
    const dirs = await Promise.all(
      stacks.map(async ({ id }) =>
        Promise.all((await terraformProcesses(id, /^apply$/)).map((pid) => readlink(`/proc/${pid}/cwd`))),
      ),
    );
    assert.equal(new Set(dirs.flat()).size, 2, `one working directory per job: ${JSON.stringify(dirs)}`);
    assert.ok(!dirs.flat().includes(system.config.templates.singleDir), 'not the template directory');
    set({ kind: 'reset_peer' });
    for (const { jobId } of stacks) {
      const failed = await system.waitForJob(jobId, 90_000);
      assert.equal(failed.status, 'failed');
      assert.match(await system.store.logs.get(jobId), /it is kept on worker/, 'each job kept its own errored state');
    }

    set({ kind: 'none' });
    for (const { id } of stacks) {
      const retried = await system.http().post(`/api/ec2instance/${id}/retry`).set('Prefer', 'wait=90');
      assert.equal(retried.body.status, 'ready', JSON.stringify(retried.body.error));
      const log = await system.store.logs.get(retried.body.job.id);
      assert.match(log, /Pushed the state an earlier run could not save/);
      assert.match(
        log,
        /Resources: 0 added/,
        'the retry found both instances in the pushed state and made nothing twice',
      );
    }
    for (const { id } of stacks) await assertHealthyState(system, id, 2);
    report(t, { faults: 1, resources: 2, lost: 0, orphaned: 0, stuckLocks: 0 });
  });
});

// The world outside Terraform (the changes fixture reads it with
// terraform_remote_state): a state whose "value" output is "v1". It is a
// regular file, except while held: then the path is a named pipe that one
// reader opens and waits on, and `hold()` resolves once it does (Terraform
// is then mid-plan, reading it). Released, the path is a regular file again
// before the waiting reader gets its state, so no later reader meets the
// pipe, and a pipe never serves two readers (they would split or repeat
// its bytes).
async function outsidePipe(): Promise<{
  path: string;
  hold(): Promise<void>;
  release(): void;
  close(): Promise<void>;
}> {
  const dir = await mkdtemp(path.join(services().dir, 'outside-'));
  const file = path.join(dir, 'outside.tfstate');
  const state = JSON.stringify({
    version: 4,
    terraform_version: '1.11.4',
    serial: 1,
    lineage: 'outside',
    outputs: { value: { value: 'v1', type: 'string' } },
    resources: [],
  });
  const asFile = async () => {
    await writeFile(path.join(dir, 'next.tfstate'), state);
    await rename(path.join(dir, 'next.tfstate'), file);
  };
  await asFile();
  let held: { serving: Promise<void>; release: () => void } | undefined;
  return {
    path: file,
    async hold() {
      const fifo = path.join(dir, 'held.fifo');
      await execa('mkfifo', [fifo]);
      await rename(fifo, file);
      const released = Promise.withResolvers<void>();
      const reached = Promise.withResolvers<void>();
      const serving = (async () => {
        // Opening for writing returns once a reader has opened the pipe.
        const handle = await open(file, 'w');
        try {
          reached.resolve();
          await released.promise;
          await asFile();
          await handle.writeFile(state);
        } catch {
          // the reader went away
        } finally {
          await handle.close();
        }
      })();
      held = { serving, release: released.resolve };
      return reached.promise;
    },
    release() {
      held?.release();
    },
    async close() {
      if (!held) return;
      held.release();
      // A writer still waiting for a reader gets one that leaves at once.
      const reader = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
      await held.serving;
      await reader?.close();
    },
  };
}

describe('an update interrupted', () => {
  const SLOW = { TF_VAR_sleep_seconds: '2' };

  test('a cancel while an update plans ends it before anything is applied, and leaves the stack as it was', async () => {
    const pipe = await outsidePipe();
    try {
      const system = await startSystem({ fixture: 'changes', worker: true, env: { TF_VAR_outside_state: pipe.path } });
      const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 1 });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id: string = created.body.id;
      const stateBefore = await (await fetch(system.services.backend.stateObjectUrl(id))).text();

      const reading = pipe.hold();
      const patched = await system
        .http()
        .patch(`/api/ec2instance/${id}`)
        .send({ inputs: { node_count: 2 } });
      assert.equal(patched.status, 202, JSON.stringify(patched.body));
      const jobId: string = patched.body.job.id;
      await reading;
      const cancel = await system.http().post(`/api/jobs/${jobId}/cancel`);
      assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
      pipe.release();

      const job = await system.waitForJob(jobId);
      assert.equal(job.status, 'cancelled', JSON.stringify(job.error));
      assert.match(job.error?.message ?? '', /^cancelled on request; .* before anything was applied$/);
      const stack = await system.stack(id);
      assert.equal(stack.status, 'ready', 'the stack is as it was');
      assert.deepEqual(stack.inputs, created.body.inputs);
      // Terraform saves the state it holds when interrupted, even in a plan
      // (a new serial); what it tracks is what it was.
      const tracked = (text: string) => {
        const state = JSON.parse(text) as { resources: unknown; outputs: unknown; lineage: string };
        return { resources: state.resources, outputs: state.outputs, lineage: state.lineage };
      };
      assert.deepEqual(
        tracked(await (await fetch(system.services.backend.stateObjectUrl(id))).text()),
        tracked(stateBefore),
        'nothing was applied',
      );
      assert.equal(
        (await fetch(system.services.backend.planObjectUrl(id, jobId), { method: 'HEAD' })).status,
        404,
        'no plan was kept',
      );
      assert.equal((await system.services.backend.lockHolders()).length, 0, 'the lock was released');
    } finally {
      await pipe.close();
    }
  });

  async function readyStack(system: TestSystem): Promise<string> {
    const created = await system.http().post('/api/ec2instance').set('Prefer', 'wait=60').send({ node_count: 1 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id;
  }

  test('a worker killed with SIGKILL while it applies an approved plan: the job runs again and the stack ends as the plan said', async (t) => {
    // A short grace, so the dead worker's lock goes stale soon (see state-lock.ts).
    const system = await startSystem({ fixture: 'slow', env: { ...SLOW, SHUTDOWN_GRACE_SECONDS: '2' } });
    const doomed = await system.spawnWorker();
    const id = await readyStack(system);
    const patched = await system
      .http()
      .patch(`/api/ec2instance/${id}`)
      .set('Prefer', 'wait=60')
      .send({ inputs: { node_count: 2 } });
    assert.equal(patched.body.job.status, 'planned', JSON.stringify(patched.body));
    const jobId: string = patched.body.job.id;
    assert.equal((await system.http().post(`/api/jobs/${jobId}/apply`)).status, 202);
    await system.waitForLog(jobId, 'terraform_data.instance[1]: Creating...');

    await doomed.signal('SIGKILL');
    const deadline = Date.now() + 5_000;
    while ((await terraformProcesses(id)).length > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await terraformProcesses(id), [], 'no Terraform outlives its worker');
    await system.startWorker({ env: SLOW });
    const job = await system.waitForJob(jobId, 90_000);
    const stack = await system.stack(id);
    // Terraform had saved no state when it died, so the approved plan still
    // matches the state and is applied by the next attempt. Had it saved
    // some, the plan would be refused as stale and the stack update_failed.
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.ok(job.attempts >= 3, `the approved apply ran again (attempts: ${job.attempts})`);
    assert.equal(stack.status, 'ready');
    assert.equal(stack.inputs.node_count, 2);
    assert.deepEqual(await system.stateAddresses(id), ['terraform_data.instance[0]', 'terraform_data.instance[1]']);
    const after = await audit(system, [id]);
    assert.equal(after.workspaces.get(id), 1, 'exactly one workspace');
    assert.equal(after.locks, 0, 'no lock is left');
    assert.equal(
      (await fetch(system.services.backend.planObjectUrl(id, jobId), { method: 'HEAD' })).status,
      404,
      'the applied plan is removed',
    );
    report(t, { faults: 1, resources: 1, lost: 0, orphaned: 0, stuckLocks: after.locks });
  });

  test('a cancel while an update applies leaves the stack update_failed with what Terraform saved; a retry then finishes the change', async () => {
    const system = await startSystem({ fixture: 'slow', worker: true, env: SLOW });
    const id = await readyStack(system);
    const patched = await system
      .http()
      .patch(`/api/ec2instance/${id}`)
      .send({ inputs: { node_count: 2 }, auto_apply: true });
    assert.equal(patched.status, 202, JSON.stringify(patched.body));
    const jobId: string = patched.body.job.id;
    await system.waitForLog(jobId, 'terraform_data.instance[1]: Creating...');
    const cancel = await system.http().post(`/api/jobs/${jobId}/cancel`);
    assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
    const job = await system.waitForJob(jobId);
    assert.equal(job.status, 'cancelled', JSON.stringify(job.error));
    const stack = await system.stack(id);
    assert.equal(stack.status, 'update_failed');
    assert.match(stack.error?.message ?? '', /cancelled on request/);
    assert.equal(stack.inputs.node_count, 1, 'the stack keeps its inputs: the update did not succeed');
    assert.equal((await system.services.backend.lockHolders()).length, 0, 'Terraform released its lock');

    // The retry runs the same update again (auto_apply as it was).
    const again = await system.http().post(`/api/ec2instance/${id}/retry`).set('Prefer', 'wait=60');
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.inputs.node_count, 2);
    assert.equal(again.body.status, 'ready', JSON.stringify(again.body.error));
    assert.deepEqual(await system.stateAddresses(id), ['terraform_data.instance[0]', 'terraform_data.instance[1]']);
  });
});
