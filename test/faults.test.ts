// Faults that must lose nothing: a worker killed mid-run, Redis restarted
// under load, a state backend that is down, slow or resetting connections.
// Each test reports its figures as a diagnostic line starting "fault:".
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startRedis } from '../scripts/local-services.ts';
import { useStacks, type Stack } from './support/harness.ts';

const [makeStack] = useStacks();

// Terraform processes working on a workspace, found by their environment.
async function terraformProcesses(workspace: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [environ, cmdline] = await Promise.all([readFile(`/proc/${entry}/environ`, 'utf8'), readFile(`/proc/${entry}/cmdline`, 'utf8')]);
      if (environ.split('\0').includes(`TF_WORKSPACE=${workspace}`) && /terraform/.test(cmdline)) pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

// What a fault left behind: state objects per resource, held locks.
async function audit(stack: Stack, ids: string[]): Promise<{ workspaces: Map<string, number>; locks: number }> {
  const keys = await stack.services.backend.listStateKeys();
  const workspaces = new Map(ids.map((id) => [id, keys.filter((key) => key.includes(`/${id}/`)).length]));
  return { workspaces, locks: (await stack.services.backend.lockHolders()).length };
}

function report(t: TestContext, figures: { faults: number; resources: number; lost: number; orphaned: number; stuckLocks: number }): void {
  t.diagnostic(`fault: ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ')}`);
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
      const stack = await makeStack({ fixture: 'slow', env: { TF_VAR_sleep_seconds: '2' } });
      const doomed = await stack.spawnWorker();
      const created = await stack.http().post('/api/ec2instance').send({ node_count: 2 });
      const id: string = created.body.id;
      let jobId: string = created.body.job.id;
      if (point.action === 'delete') {
        assert.equal((await stack.waitForJob(jobId)).status, 'succeeded');
        jobId = (await stack.http().delete(`/api/ec2instance/${id}`)).body.job.id;
      }
      if (point.at === 'running') await stack.waitForJobRunning(jobId);
      else await stack.waitForLog(jobId, point.at);
      const running = await terraformProcesses(id);

      await doomed.signal('SIGKILL');
      // Terraform dies with its worker (parent-death signal).
      const deadline = Date.now() + 5_000;
      while ((await terraformProcesses(id)).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(await terraformProcesses(id), [], 'no Terraform outlives its worker');
      const left = await stack.services.backend.lockHolders();
      if (running.length > 0) {
        assert.equal(left.length, 1, 'the dead worker left its state lock');
        assert.equal(left[0]?.Info, `tfcompute job ${jobId} on worker ${doomed.workerId}`, 'the lock names the worker and the job');
      }

      await stack.startWorker();
      const job = await stack.waitForJob(jobId, 90_000);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.ok(job.attempts >= 2, 'the job ran again');
      const resource = await stack.resource(id);
      const after = await audit(stack, [id]);
      if (point.action === 'create') {
        assert.equal(resource.status, 'ready');
        assert.deepEqual(resource.outputs.private_ips, ['10.0.0.10', '10.0.1.11']);
        assert.equal(after.workspaces.get(id), 1, 'exactly one workspace');
        assert.equal((await stack.stateAddresses(id)).length, 2);
      } else {
        assert.equal(resource.status, 'deleted');
        assert.equal(after.workspaces.get(id), 0, 'the workspace is gone');
      }
      assert.equal(after.locks, 0, 'no lock is left');
      if (left.length > 0) assert.match(await stack.store.getLog(jobId), new RegExp(`Released the state lock left by worker ${doomed.workerId}`));
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
    const stack = await makeStack({ fixture: 'ok', worker: true, env: { REDIS_URL: redis.url } });

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
          const res = await stack.http().post('/api/ec2instance').set('Idempotency-Key', key).send({ tags: { key } }).timeout(10_000);
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
    const deadline = Date.now() + 120_000;
    const stuck: string[] = [];
    for (const id of accepted) {
      try {
        const resource = await stack.waitForResourceStatus(id, 'ready', Math.max(1, deadline - Date.now()));
        assert.equal(resource.outputs.resource_id, id);
      } catch {
        const resource = await stack.resource(id);
        stuck.push(JSON.stringify({ resource, job: await stack.store.getJob(resource.job.id), log: await stack.store.getLog(resource.job.id) }));
      }
    }
    assert.deepEqual(stuck, [], 'every accepted resource became ready');
    // Nothing else was created: no duplicate from a retried request, no
    // resource left behind by a refused one.
    assert.equal(await stack.redis.zcard(`${stack.config.redisPrefix}:res:index`), accepted.size);
    const after = await audit(stack, [...accepted]);
    assert.ok([...after.workspaces.values()].every((n) => n === 1), 'one workspace each');
    assert.equal(after.locks, 0);
    t.diagnostic(`redis restart: ${sent} requests, ${refused.length} refused with 503, ${accepted.size} accepted, all ready`);
    report(t, { faults: 1, resources: accepted.size, lost: 0, orphaned: 0, stuckLocks: after.locks });
  });
});
