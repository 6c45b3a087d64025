// Policies on every plan: rules refused when written (syntax, types, a
// non-boolean, the cost limit), and real Terraform plans held to them on
// terraform_data stacks: a policy over inputs, one over plan resources, one
// over the actor; advisory, soft-mandatory (override, discard) and
// hard-mandatory on create, update and delete; a policy of one project
// never applies to another's; evaluation errors and the time limit are
// recorded failures. One system and one worker for the whole file.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EVENT_DATA, type EventType } from '../core/events/catalogue.ts';
import type { Job, Stack } from '../core/schemas/index.ts';
import { assertProblem, createSystem, type Services, startServices, type TestSystem } from './support/harness.ts';

const secret = (name: string) => `${name}-secret-0123456789abcdefghijklmn`;
const TOKEN_NAMES = [
  'root:owner',
  'ci:write',
  'alpha-admin:admin@alpha',
  'alpha-write:write@alpha',
  'beta-admin:admin@beta',
  'beta-write:write@beta',
];
const API_TOKENS = TOKEN_NAMES.map((entry) => `${entry}:${secret(entry.split(':')[0] as string)}`).join(',');

let services: Services;
let system: TestSystem;
const as = (name: string) => system.http(secret(name));

before(async () => {
  services = await startServices();
  system = await createSystem(services, {
    fixture: 'changes',
    env: { API_TOKENS, POLICY_EVALUATION_TIMEOUT_MS: '1000' },
  });
  await system.startWorker();
  for (const name of ['alpha', 'beta'])
    assert.equal((await as('root').post('/api/projects').send({ name })).status, 201);
});

after(async () => {
  try {
    await system?.assertEventsMatchRecords();
  } finally {
    await system?.stop();
    await services?.stop();
  }
});

type NewPolicy = {
  name: string;
  enforcement: string;
  rule: string;
  message: string;
  project?: string;
  actions?: string[];
  templates?: string[];
};

async function policy(by: string, body: NewPolicy): Promise<string> {
  const res = await as(by).post('/api/policies').send(body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

async function removePolicy(id: string): Promise<void> {
  assert.equal((await as('root').delete(`/api/policies/${id}`)).status, 204);
}

// A create by `by`, in its project; resolves with the job once it settled.
async function create(by: string, inputs: Record<string, unknown>): Promise<{ stack: Stack; job: Job }> {
  const res = await as(by).post('/api/ec2instance').send(inputs);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const job = await settled(res.body.job.id);
  return { stack: await system.stack(res.body.id), job };
}

async function patch(by: string, id: string, inputs: Record<string, unknown>): Promise<Job> {
  const res = await as(by).patch(`/api/ec2instance/${id}`).send({ inputs, auto_apply: true });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return settled(res.body.job.id);
}

async function remove(by: string, id: string): Promise<Job> {
  const res = await as(by).delete(`/api/ec2instance/${id}`);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return settled(res.body.job.id);
}

// The job once it has finished or waits for someone (planned, policy_failed).
function settled(jobId: string): Promise<Job> {
  return system.waitForJobRecord(jobId, (job) => !['queued', 'running'].includes(job.status), 90_000, 'not settled');
}

function verdict(job: Job): Array<[string, boolean]> {
  return (job.policy?.results ?? []).map((result) => [result.policy.name, result.passed]);
}

describe('policies are checked when they are written', () => {
  test('a rule that does not parse, type-check, return a bool or stay within the cost limit is a 400 naming the CEL error and its position; nothing is stored', async () => {
    const base = { name: 'bad', enforcement: 'hard-mandatory', project: 'alpha', message: 'no' };
    const cases: Array<[string, RegExp]> = [
      ['stack.inputs.node_count <=', /Unexpected token.*line 1, column 27/],
      ['plan.add <= "three"', /no such overload: int <= string.*line 1, column 1/],
      ['stack.inputs.node_count <= 2 &&\n  actor.team == "x"', /No such key: team.*line 2, column 9/],
      ['plan.add + 1', /evaluates to int, not bool/],
      [
        'plan.resources.all(a, plan.resources.all(b, plan.resources.all(c, a.address != c.address)))',
        /cost limit: comprehensions nest 3 deep/,
      ],
    ];
    for (const [rule, error] of cases) {
      const res = await as('alpha-admin')
        .post('/api/policies')
        .send({ ...base, rule });
      assertProblem(res, 400, 'invalid-policy-rule');
      assert.match(res.body.detail, error, rule);
      assert.equal(res.body.errors[0].path, 'rule');
    }
    assertProblem(
      await as('alpha-admin')
        .post('/api/policies')
        .send({ ...base, rule: 'true', enforcement: 'sometimes' }),
      400,
      'validation-failed',
    );
    assert.deepEqual((await as('root').get('/api/policies')).body.items, [], 'nothing was stored');
  });

  test("owners write every project's policies; a project's admins their own; others are told their role, or the 404 of an unknown project; changes are audited", async () => {
    const everywhere = await policy('root', {
      name: 'everywhere',
      enforcement: 'advisory',
      actions: ['plan'],
      rule: 'true',
      message: 'm',
    });
    const alphaOnly = await policy('alpha-admin', {
      name: 'alpha only',
      enforcement: 'advisory',
      project: 'alpha',
      actions: ['plan'],
      rule: 'true',
      message: 'm',
    });
    const rule = { name: 'x', enforcement: 'advisory', rule: 'true', message: 'm' };
    assertProblem(await as('alpha-admin').post('/api/policies').send(rule), 403, 'insufficient-role');
    // A legacy write entry is an admin of every project, yet not an owner: the guardrails meant for it are not its to change.
    assertProblem(await as('ci').post('/api/policies').send(rule), 403, 'insufficient-role');
    assertProblem(
      await as('ci').patch(`/api/policies/${everywhere}`).send({ rule: 'false' }),
      403,
      'insufficient-role',
    );
    assertProblem(await as('ci').delete(`/api/policies/${everywhere}`), 403, 'insufficient-role');
    assertProblem(
      await as('alpha-admin')
        .post('/api/policies')
        .send({ ...rule, project: 'beta' }),
      404,
      'project-not-found',
    );
    const writer = await as('alpha-write')
      .post('/api/policies')
      .send({ ...rule, project: 'alpha' });
    assertProblem(writer, 403, 'insufficient-role');
    assert.match(writer.body.detail, /needs the admin role in project "alpha"/);

    assert.deepEqual(
      (await as('alpha-write').get('/api/policies?project=alpha')).body.items.map((p: { id: string }) => p.id),
      [everywhere, alphaOnly],
    );
    assert.deepEqual(
      (await as('beta-write').get('/api/policies')).body.items.map((p: { id: string }) => p.id),
      [everywhere],
      "beta sees every project's policies, not alpha's",
    );
    assertProblem(await as('beta-admin').get(`/api/policies/${alphaOnly}`), 404, 'policy-not-found');
    assert.equal((await as('beta-write').get(`/api/policies/${everywhere}`)).body.project, null);
    assertProblem(
      await as('alpha-admin').patch(`/api/policies/${everywhere}`).send({ message: 'mine now' }),
      403,
      'insufficient-role',
    );
    assertProblem(
      await as('alpha-admin').patch(`/api/policies/${alphaOnly}`).send({ rule: 'plan.add' }),
      400,
      'invalid-policy-rule',
    );
    const changed = await as('alpha-admin')
      .patch(`/api/policies/${alphaOnly}`)
      .send({ enforcement: 'soft-mandatory', actions: null });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual(
      [changed.body.enforcement, changed.body.actions, changed.body.rule],
      ['soft-mandatory', null, 'true'],
    );

    await removePolicy(everywhere);
    assert.equal((await as('alpha-admin').delete(`/api/policies/${alphaOnly}`)).status, 204);
    assertProblem(await as('alpha-admin').get(`/api/policies/${alphaOnly}`), 404, 'policy-not-found');
    const audit = (await as('alpha-admin').get('/api/audit?project=alpha')).body.items as Array<{
      action: string;
      target: { id: string };
    }>;
    assert.deepEqual(
      audit.filter((entry) => entry.target.id === alphaOnly).map((entry) => entry.action),
      ['policy.delete', 'policy.update', 'policy.create'],
    );
  });

  test('a project holds at most 100 policies; the 101st is a 409 and is not stored; another project is not counted with it', async () => {
    assert.equal((await as('root').post('/api/projects').send({ name: 'delta' })).status, 201);
    const ids = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        policy('root', {
          name: `p${i}`,
          enforcement: 'advisory',
          project: 'delta',
          actions: ['plan'],
          rule: 'true',
          message: 'm',
        }),
      ),
    );
    const over = await as('root')
      .post('/api/policies')
      .send({ name: 'one more', enforcement: 'advisory', project: 'delta', rule: 'true', message: 'm' });
    assertProblem(over, 409, 'policy-limit-reached');
    assert.match(over.body.detail, /project "delta" has 100 policies/);
    assert.equal(
      (await as('root').get('/api/policies?project=delta')).body.items.filter(
        (p: { project: string | null }) => p.project === 'delta',
      ).length,
      100,
    );
    const elsewhere = await policy('alpha-admin', {
      name: 'alpha still',
      enforcement: 'advisory',
      project: 'alpha',
      actions: ['plan'],
      rule: 'true',
      message: 'm',
    });
    await removePolicy(elsewhere);
    await Promise.all(ids.map(removePolicy));
  });

  test("a project's policies go with it: a project made later under its name is held to none of them", async () => {
    assert.equal((await as('root').post('/api/projects').send({ name: 'gamma' })).status, 201);
    const guard = await policy('root', {
      name: 'gamma guard',
      enforcement: 'hard-mandatory',
      project: 'gamma',
      rule: 'false',
      message: 'm',
    });
    assert.equal((await as('root').delete('/api/projects/gamma')).status, 204);
    assertProblem(await as('root').get(`/api/policies/${guard}`), 404, 'policy-not-found');
    assert.equal((await as('root').post('/api/projects').send({ name: 'gamma' })).status, 201);
    assert.deepEqual((await as('root').get('/api/policies?project=gamma')).body.items, []);
    assert.deepEqual(await system.keysMatching('*:pol:*'), [], 'no policy record or index left');
  });
});

describe('real plans held to the policies', () => {
  test('hard-mandatory over inputs in alpha: a create and a PATCH past it fail with nothing applied; beta is not held to it; a create within it passes', async () => {
    const nodes = await policy('alpha-admin', {
      name: 'two nodes',
      enforcement: 'hard-mandatory',
      project: 'alpha',
      actions: ['create', 'update'],
      rule: 'stack.inputs.node_count <= 2',
      message: 'alpha stacks have at most 2 nodes',
    });

    const refused = await create('alpha-write', { node_count: 3 });
    assert.equal(refused.job.status, 'failed');
    assert.equal(refused.job.error?.code, 'policy-failed');
    assert.match(refused.job.error?.message ?? '', /"two nodes": alpha stacks have at most 2 nodes/);
    assert.equal(refused.job.policy?.status, 'failed');
    assert.equal(refused.stack.status, 'failed');
    assert.match(refused.stack.error?.message ?? '', /at most 2 nodes/, 'the stack says why');
    assert.deepEqual(await system.stateAddresses(refused.stack.id), [], 'nothing in the state');

    const beta = await create('beta-write', { node_count: 3 });
    assert.equal(beta.stack.status, 'ready', 'a policy of alpha never applies to beta');
    assert.equal(beta.job.policy, undefined);
    assert.equal(beta.job.plan, undefined, 'with no policy, a create does not plan first');

    const within = await create('alpha-write', { node_count: 2 });
    assert.equal(within.stack.status, 'ready');
    assert.deepEqual(verdict(within.job), [['two nodes', true]]);
    assert.equal(within.job.policy?.status, 'passed');
    assert.match(await system.store.logs.get(within.job.id), /Policy "two nodes" \(hard-mandatory\): passed/);

    const grown = await patch('alpha-write', within.stack.id, { node_count: 3 });
    assert.equal(grown.status, 'failed');
    assert.equal(grown.error?.code, 'policy-failed');
    const after = await system.stack(within.stack.id);
    assert.equal(after.status, 'ready', 'a refused update leaves the stack as it was');
    assert.equal(after.inputs.node_count, 2);
    assert.equal((await system.stateAddresses(within.stack.id)).length, 2);
    await removePolicy(nodes);
  });

  test('soft-mandatory over plan resources: a replacement waits policy_failed; an admin overrides it (a write token is 403) and exactly that plan is applied; another is discarded', async () => {
    const noReplace = await policy('alpha-admin', {
      name: 'no replacement',
      enforcement: 'soft-mandatory',
      project: 'alpha',
      actions: ['update'],
      rule: 'plan.resources.all(r, !(r.action == "replace" && r.address.startsWith("terraform_data.instance")))',
      message: 'instances are not replaced without an admin',
    });
    const { stack } = await create('alpha-write', { node_count: 1 });
    const held = await patch('alpha-write', stack.id, { instance_type: 't3.small' });
    assert.equal(held.status, 'policy_failed');
    assert.deepEqual(verdict(held), [['no replacement', false]]);
    assert.equal(held.policy?.results[0]?.message, 'instances are not replaced without an admin');
    assert.equal(held.plan?.replace, 1);
    assert.equal((await system.stack(stack.id)).status, 'ready', 'the stack keeps its status while the job waits');
    // Queued behind it, a PATCH would run after an override and undo it: refused while the job waits.
    const behind = await as('alpha-write')
      .patch(`/api/ec2instance/${stack.id}`)
      .send({ inputs: { instance_type: 't3.micro' }, auto_apply: true });
    assertProblem(behind, 409, 'invalid-state');
    assert.match(behind.body.detail, new RegExp(`its job ${held.id} waits for a policy override or a discard`));
    assertProblem(await as('alpha-write').post(`/api/ec2instance/${stack.id}/plan`), 409, 'invalid-state');

    assertProblem(await as('alpha-admin').post(`/api/jobs/${held.id}/apply`), 409, 'invalid-state');
    const writer = await as('alpha-write').post(`/api/jobs/${held.id}/override`).send({ reason: 'I say so' });
    assertProblem(writer, 403, 'insufficient-role');
    assert.match(writer.body.detail, /needs the admin role/);
    assertProblem(await as('alpha-admin').post(`/api/jobs/${held.id}/override`).send({}), 400, 'validation-failed');
    const overridden = await as('alpha-admin')
      .post(`/api/jobs/${held.id}/override`)
      .send({ reason: 'the database is empty' });
    assert.equal(overridden.status, 202, JSON.stringify(overridden.body));
    const done = await system.waitForJob(held.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.policy?.status, 'overridden');
    assert.deepEqual(
      [done.policy?.override?.by, done.policy?.override?.reason],
      ['alpha-admin', 'the database is empty'],
    );
    assert.deepEqual(
      done.result?.changes,
      { add: held.plan?.add, change: held.plan?.change, remove: held.plan?.destroy },
      'the evaluated plan, applied',
    );
    assert.match(await system.store.logs.get(held.id), /Applying the saved plan/);
    assert.equal((await system.stack(stack.id)).inputs.instance_type, 't3.small');
    const audit = (await as('alpha-admin').get('/api/audit?project=alpha&action=job.override')).body.items;
    const entries = audit.map((entry: { actor: { name: string }; target: { id: string }; outcome: string }) => [
      entry.actor.name,
      entry.target.id,
      entry.outcome,
    ]);
    assert.deepEqual(
      entries,
      [
        ['alpha-admin', held.id, 'allowed'],
        ['alpha-write', held.id, 'denied'],
      ],
      'the override, and the refused attempt',
    );

    const again = await patch('alpha-write', stack.id, { instance_type: 't3.medium' });
    assert.equal(again.status, 'policy_failed');
    const discarded = await as('alpha-write').post(`/api/jobs/${again.id}/discard`);
    assert.equal(discarded.status, 200, JSON.stringify(discarded.body));
    assert.equal(discarded.body.status, 'discarded');
    const kept = await system.stack(stack.id);
    assert.deepEqual([kept.status, kept.inputs.instance_type], ['ready', 't3.small']);
    assertProblem(
      await as('alpha-admin').post(`/api/jobs/${again.id}/override`).send({ reason: 'late' }),
      409,
      'invalid-state',
    );
    const third = await patch('alpha-write', stack.id, { instance_type: 't3.large' });
    const cancelled = await as('alpha-write').post(`/api/jobs/${third.id}/cancel`);
    assert.deepEqual(
      [cancelled.status, cancelled.body.status],
      [200, 'cancelled'],
      'a cancel discards a job a policy stopped',
    );
    assert.equal((await system.stack(stack.id)).status, 'ready');

    const event = (await system.store.outbox.entries()).find(
      (entry) => entry.type === 'io.tfcompute.job.policy_failed' && entry.subject === stack.id,
    );
    assert.ok(event, 'a job.policy_failed event');
    const data = JSON.parse(event.data);
    assert.equal(data.job.policy.results[0].passed, false);
    assert.ok(
      EVENT_DATA.get(event.type as EventType)?.safeParse({
        ...data,
        stack: { ...data.stack, href: `/api/ec2instance/${stack.id}` },
        job: { ...data.job, href: `/api/jobs/${again.id}` },
      }).success,
      'the event matches its schema',
    );
    await removePolicy(noReplace);
  });

  test('over the actor: advisory on create is recorded and applied; soft-mandatory on a create waits creating, then is overridden; on delete hard-mandatory fails, soft-mandatory is overridden, advisory is applied', async () => {
    const ci = await policy('root', {
      name: 'from CI',
      enforcement: 'advisory',
      actions: ['create'],
      rule: 'actor.kind == "token" && actor.name.startsWith("ci-")',
      message: 'stacks should be made by CI tokens',
    });
    const small = await policy('beta-admin', {
      name: 'one node',
      enforcement: 'soft-mandatory',
      project: 'beta',
      actions: ['create'],
      rule: 'stack.inputs.node_count <= 1',
      message: 'more than one node needs an admin',
    });

    const advised = await create('beta-write', { node_count: 1 });
    assert.equal(advised.stack.status, 'ready', 'an advisory failure does not stop the apply');
    assert.equal(advised.job.policy?.status, 'advisory_failed');
    assert.deepEqual(verdict(advised.job), [
      ['from CI', false],
      ['one node', true],
    ]);

    const waiting = await create('beta-write', { node_count: 2 });
    assert.equal(waiting.job.status, 'policy_failed');
    assert.equal(waiting.stack.status, 'creating', 'a create waits creating');
    assert.deepEqual(await system.stateAddresses(waiting.stack.id), []);
    assert.equal(
      (await as('beta-admin').post(`/api/jobs/${waiting.job.id}/override`).send({ reason: 'load test' })).status,
      202,
    );
    const created = await system.waitForJob(waiting.job.id);
    assert.equal(created.status, 'succeeded', JSON.stringify(created.error));
    assert.equal((await system.stack(waiting.stack.id)).status, 'ready');
    assert.equal((await system.stateAddresses(waiting.stack.id)).length, 2);
    await removePolicy(ci);
    await removePolicy(small);

    const keep = await policy('beta-admin', {
      name: 'keep big stacks',
      enforcement: 'hard-mandatory',
      project: 'beta',
      actions: ['delete'],
      rule: 'plan.destroy <= 1',
      message: 'stacks of more than one instance are kept',
    });
    const kept = await remove('beta-write', waiting.stack.id);
    assert.equal(kept.status, 'failed');
    assert.equal(kept.error?.code, 'policy-failed');
    assert.equal((await system.stateAddresses(waiting.stack.id)).length, 2, 'nothing destroyed');
    assert.equal((await system.stack(waiting.stack.id)).status, 'delete_failed');

    assert.equal(
      (await as('beta-admin').patch(`/api/policies/${keep}`).send({ enforcement: 'soft-mandatory' })).status,
      200,
    );
    const asked = await remove('beta-write', waiting.stack.id);
    assert.equal(asked.status, 'policy_failed');
    assert.equal(
      (await system.stack(waiting.stack.id)).status,
      'delete_failed',
      'the stack keeps its status while the delete waits',
    );
    assert.equal(
      (await as('beta-admin').post(`/api/jobs/${asked.id}/override`).send({ reason: 'done with it' })).status,
      202,
    );
    assert.equal((await system.waitForJob(asked.id)).status, 'succeeded');
    assert.equal((await system.stack(waiting.stack.id)).status, 'deleted');

    assert.equal(
      (
        await as('beta-admin')
          .patch(`/api/policies/${keep}`)
          .send({ enforcement: 'advisory', rule: 'plan.destroy == 0' })
      ).status,
      200,
    );
    const gone = await remove('beta-write', advised.stack.id);
    assert.equal(gone.status, 'succeeded');
    assert.equal(gone.policy?.status, 'advisory_failed');
    assert.equal((await system.stack(advised.stack.id)).status, 'deleted');
    await removePolicy(keep);
  });

  test('advisory on update: the failure is recorded on the job and the PATCH is applied as planned', async () => {
    const { stack } = await create('beta-write', { node_count: 1 });
    const grow = await policy('beta-admin', {
      name: 'no growth',
      enforcement: 'advisory',
      project: 'beta',
      actions: ['update'],
      rule: 'stack.inputs.node_count <= 1',
      message: 'growing a stack needs a ticket',
    });
    const grown = await patch('beta-write', stack.id, { node_count: 2 });
    assert.equal(grown.status, 'succeeded', JSON.stringify(grown.error));
    assert.equal(grown.policy?.status, 'advisory_failed');
    assert.deepEqual(
      grown.policy?.results.map((r) => [r.policy.name, r.enforcement, r.passed, r.message]),
      [['no growth', 'advisory', false, 'growing a stack needs a ticket']],
    );
    const after = await system.stack(stack.id);
    assert.equal(after.status, 'ready');
    assert.equal(after.inputs.node_count, 2, 'the merged inputs were applied');
    assert.equal((await system.stateAddresses(stack.id)).length, 2);
    await removePolicy(grow);
  });

  test('a rule that errors, returns no bool, or runs past the time limit is a recorded failure; the worker goes on; /metrics counts evaluations by policy and outcome', async () => {
    const rules = {
      'no such input': 'stack.inputs.nonexistent == 1',
      'not a bool': 'stack.inputs.node_count',
      'backtracks for ever': '(stack.id + stack.id + stack.id + stack.id).matches("^(\\\\w|\\\\w)*!$")',
      holds: 'plan.resources.all(r, r.type == "terraform_data" && r.after.input.private_ip.startsWith("10."))',
    };
    const ids = [];
    for (const [name, rule] of Object.entries(rules))
      ids.push(
        await policy('alpha-admin', {
          name,
          enforcement: 'advisory',
          project: 'alpha',
          actions: ['plan'],
          rule,
          message: `${name} failed`,
        }),
      );
    const { stack } = await create('alpha-write', { node_count: 1 });
    const planned = await as('alpha-write').post(`/api/ec2instance/${stack.id}/plan`);
    assert.equal(planned.status, 202, JSON.stringify(planned.body));
    const job = await settled(planned.body.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const messages = Object.fromEntries(
      (job.policy?.results ?? []).map((result) => [result.policy.name, [result.passed, result.message]]),
    );
    assert.deepEqual(messages.holds, [true, '']);
    assert.match(
      String(messages['no such input']?.[1]),
      /^no such input failed \(the rule could not be evaluated: No such key: nonexistent\)$/,
    );
    assert.match(String(messages['not a bool']?.[1]), /evaluated to an int, not a bool/);
    assert.match(String(messages['backtracks for ever']?.[1]), /stopped at the time limit of 1000 ms/);

    const metrics = (await system.http().get('/metrics')).text;
    assert.match(metrics, new RegExp(`tfcompute_policy_evaluations_total\\{policy="${ids[3]}",outcome="passed"\\} 1`));
    assert.match(metrics, new RegExp(`tfcompute_policy_evaluations_total\\{policy="${ids[2]}",outcome="failed"\\} 1`));
    for (const id of ids) await removePolicy(id);
  });
});
