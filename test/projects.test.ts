// Projects: the tenant boundary. Stacks and jobs belong to one; lists show a
// project's stacks from its own indexes; quotas hold under racing API
// processes; data from before projects is moved into the default project.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import request from 'supertest';
import { startApi } from '../api/server.ts';
import { createLogger } from '../core/logger.ts';
import { newJobId, newStackId } from '../core/ids.ts';
import { Store } from '../core/store/index.ts';
import { assertProblem, useSystems } from './support/harness.ts';
import { terraformProcesses } from './support/terraform-processes.ts';
import { uniquePrefix } from './support/use-redis.ts';

const [startSystem, services] = useSystems();

// The insecure local mode: the caller is an owner.
const LOCAL = { AUTH_MODE: 'insecure-local', HOST: '127.0.0.1', API_TOKENS: '' };

describe('projects through the API', () => {
  test('an owner makes a project, changes its quota and removes it once empty; names and bodies are checked, nothing stored when refused', async () => {
    const system = await startSystem({ env: LOCAL });
    const http = () => request(system.baseUrl);
    const made = await http()
      .post('/api/projects')
      .send({ name: 'payments', description: 'the payments team', quota: { max_stacks: 2 } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual(made.body.quota, { max_stacks: 2, max_running_jobs: null });
    assert.equal(made.headers.location, '/api/projects/payments');
    assertProblem(await http().post('/api/projects').send({ name: 'payments' }), 409, 'project-exists');
    for (const name of ['Payments', '-x', 'a'.repeat(64), 'a_b', ''])
      assertProblem(await http().post('/api/projects').send({ name }), 400, 'validation-failed');
    assertProblem(
      await http()
        .post('/api/projects')
        .send({ name: 'ok', quota: { max_stacks: -1 } }),
      400,
      'validation-failed',
    );
    assertProblem(await http().post('/api/projects').send({ name: 'ok', owner: 'me' }), 400, 'validation-failed');
    assert.deepEqual(
      (await http().get('/api/projects')).body.items.map((p: { name: string }) => p.name),
      ['default', 'payments'],
    );

    const stack = await http().post('/api/ec2instance?project=payments').send({});
    assert.equal(stack.status, 202);
    assert.equal(stack.body.project, 'payments');
    assert.equal(
      (await http().get(`/api/jobs/${stack.body.job.id}`)).body.project,
      'payments',
      'its job belongs to the project too',
    );
    assert.deepEqual(
      (await http().get('/api/ec2instance?project=payments')).body.items.map((s: { id: string }) => s.id),
      [stack.body.id],
    );
    assert.deepEqual((await http().get('/api/ec2instance?project=default')).body.items, []);
    assertProblem(await http().post('/api/ec2instance?project=nowhere').send({}), 404, 'project-not-found');
    assertProblem(await http().delete('/api/projects/payments'), 409, 'project-not-empty');
    assertProblem(await http().delete('/api/projects/default'), 409, 'project-not-empty');

    const patched = await http()
      .patch('/api/projects/payments')
      .send({ description: 'payments', quota: { max_running_jobs: 3 } });
    assert.deepEqual(patched.body.quota, { max_stacks: null, max_running_jobs: 3 }, 'the quota is replaced whole');
    assert.equal((await http().get('/api/projects/payments')).body.live_stacks, 1);
    assert.equal(
      (await http().delete(`/api/ec2instance/${stack.body.id}`)).status,
      200,
      'a create not started is cancelled',
    );
    assert.equal((await http().delete('/api/projects/payments')).status, 204);
    assertProblem(await http().get('/api/projects/payments'), 404, 'project-not-found');
  });

  test('a create beyond the quota is 409 naming the limit, and nothing is recorded or queued', async () => {
    const system = await startSystem({ env: LOCAL });
    const http = () => request(system.baseUrl);
    await http()
      .post('/api/projects')
      .send({ name: 'small', quota: { max_stacks: 1 } });
    assert.equal((await http().post('/api/ec2instance?project=small').send({})).status, 202);
    const refused = await http().post('/api/ec2instance?project=small').send({});
    assertProblem(refused, 409, 'quota-exceeded');
    assert.match(refused.body.detail, /1 live stacks, its quota \(max_stacks\)/);
    assert.equal((await http().get('/api/ec2instance?project=small')).body.items.length, 1);
    assert.equal(await system.queue.count(), 1, 'one create job queued, not two');
  });

  test('two API processes racing 20 creates for the last place in a project: exactly one wins', async (t) => {
    const system = await startSystem({ env: LOCAL });
    const other = await startApi(system.config, createLogger('silent', 'api'));
    t.after(() => other.stop());
    const apis = [system.baseUrl, `http://127.0.0.1:${other.port}`] as const;
    const api = (i: number) => request(apis[i % 2] as string);
    await api(0)
      .post('/api/projects')
      .send({ name: 'race', quota: { max_stacks: 3 } });
    for (let i = 0; i < 2; i++) assert.equal((await api(i).post('/api/ec2instance?project=race').send({})).status, 202);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api(i).post('/api/ec2instance?project=race').send({})),
    );
    const statuses = answers.map((res) => res.status).sort();
    assert.deepEqual(statuses, [202, ...Array(19).fill(409)]);
    assert.equal((await api(1).get('/api/projects/race')).body.live_stacks, 3);
  });
});

describe("a project's running jobs", () => {
  test('beyond max_running_jobs, jobs wait and start in the order they were asked for, never more at once; another project is not held up', async () => {
    const system = await startSystem({ env: { ...LOCAL, TF_VAR_sleep_seconds: '1' }, fixture: 'slow', concurrency: 4 });
    await system.startWorker();
    const http = () => request(system.baseUrl);
    await http()
      .post('/api/projects')
      .send({ name: 'narrow', quota: { max_running_jobs: 1 } });
    const ids: string[] = [];
    const jobs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const made = await http().post('/api/ec2instance?project=narrow').send({ node_count: 1 });
      ids.push(made.body.id);
      jobs.push(made.body.job.id);
    }
    const other = await http().post('/api/ec2instance').send({ node_count: 1 });
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const counts = await Promise.all(ids.map((id) => terraformProcesses(id, /^apply$/)));
        most = Math.max(
          most,
          counts.reduce((sum, pids) => sum + pids.length, 0),
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const otherDone = system.waitForJob(other.body.job.id, 60_000);
    const finished = await Promise.all(jobs.map((job) => system.waitForJob(job, 90_000)));
    sampling = false;
    await sampler;
    assert.ok(
      finished.every((job) => job.status === 'succeeded'),
      JSON.stringify(finished.map((j) => j.error)),
    );
    assert.equal(most, 1, 'one apply at a time in the project');
    const starts = finished.map((job) => job.started_at ?? '');
    assert.deepEqual([...starts].sort(), starts, 'they started in the order they were asked for');
    assert.ok(
      ((await otherDone).finished_at ?? '') < (finished[2]?.started_at ?? ''),
      "the default project's job did not wait for them",
    );
  });
});

describe('the projects migration', () => {
  function newStore(t: TestContext) {
    const redis = new Redis(services().redis.url);
    t.after(() => redis.disconnect());
    const prefix = uniquePrefix('projects');
    return { redis, prefix, store: new Store(redis, prefix, 3600) };
  }

  test('stacks and jobs stored before projects are served under default, in its lists and its quota, nothing lost', async (t) => {
    const { redis, prefix, store } = newStore(t);
    const ids: string[] = [];
    const jobs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = newStackId();
      const jobId = newJobId();
      await store.stacks.create({
        id,
        jobId,
        template: { name: 'ec2instance', version: 'v1' },
        inputs: { node_count: 1 },
        setInputs: [],
        maxAttempts: 3,
        owner: 'ci',
        maxLive: 20,
      });
      ids.push(id);
      jobs.push(jobId);
    }
    await store.jobs.markRunning(ids[0] as string, jobs[0] as string);
    await store.jobs.finish({
      stackId: ids[0] as string,
      jobId: jobs[0] as string,
      jobStatus: 'succeeded',
      stackStatus: 'ready',
      drift: { status: 'in_sync', resources: [] },
    });
    // As the store left them before projects: no project field on stacks or
    // jobs, no project indexes, no project records.
    for (const id of ids) await redis.hdel(`${prefix}:res:${id}`, 'project');
    for (const jobId of jobs) await redis.hdel(`${prefix}:job:${jobId}`, 'project');
    const projectKeys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}:prj:*`, count: 1000 }))
      projectKeys.push(...(batch as string[]));
    await redis.del(...projectKeys, `${prefix}:projects`);
    await redis.set(`${prefix}:schema`, '4');
    assert.deepEqual(
      (await store.stacks.list({ template: 'ec2instance', projects: ['default'], limit: 20 })).items,
      [],
    );

    assert.deepEqual(await store.migrations.run(), {
      'migrate-projects': 5,
      'migrate-webhook-projects': 0,
      'migrate-history': 0,
    });
    const listed = (await store.stacks.list({ template: 'ec2instance', projects: ['default'], limit: 20 })).items;
    assert.deepEqual(listed.map((s) => s.id).sort(), [...ids].sort());
    assert.ok(listed.every((s) => s.project === 'default'));
    assert.deepEqual(
      (
        await store.stacks.list({
          template: 'ec2instance',
          projects: ['default'],
          status: 'ready',
          drift: 'in_sync',
          limit: 20,
        })
      ).items.map((s) => s.id),
      [ids[0]],
    );
    assert.equal((await store.jobs.get(jobs[1] as string))?.project, 'default');
    assert.equal((await store.projects.get('default'))?.live_stacks, 5);
    assert.equal(await redis.get(`${prefix}:schema`), '7');
    assert.deepEqual(await store.migrations.run(), {}, 'a later start does not scan again');
  });
});
