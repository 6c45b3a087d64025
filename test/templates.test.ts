// Templates end to end: TEMPLATES_DIR with the ec2instance fixture and a
// template whose variables cover every mapped type (test/templates/typed),
// listed, documented, validated, created by a worker running real Terraform;
// sensitive inputs kept out of everything a user or operator can read.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../core/config.ts';
import { loadCatalogue } from '../core/templates/index.ts';
import { assertProblem, TOKENS, useSystems } from './support/harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TEMPLATES = path.join(ROOT, 'test', 'templates');
const KEY = Buffer.alloc(32, 7).toString('base64');
const SECRET = 'correct-horse-battery-staple-42';
const env = { TEMPLATES_DIR: TEMPLATES, ENCRYPTION_KEY: KEY, TF_VAR_subnet_id: 'subnet-from-operator' };

const [startSystem] = useSystems();

describe('the catalogue', () => {
  test('lists every template with its inputs schema, version and outputs, and 404s an unknown one', async () => {
    const system = await startSystem({ env });
    const list = await system.http(TOKENS.reader).get('/api/templates');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((t: { name: string }) => t.name),
      ['ec2instance', 'typed'],
    );
    const typed = (await system.http(TOKENS.reader).get('/api/templates/typed')).body;
    assert.equal(typed.description, 'Every type tfcompute maps, for the tests.');
    assert.match(typed.version, /^[0-9a-f]{16}$/);
    const props = typed.inputs_schema.properties;
    assert.deepEqual(typed.inputs_schema.required, ['name']);
    assert.equal(typed.inputs_schema.additionalProperties, false);
    assert.equal(props.subnet_id, undefined, 'an operator-set variable is not an input');
    assert.equal(props.resource_id, undefined, 'resource_id is set by the service');
    assert.deepEqual(props.size.enum, ['small', 'medium', 'large']);
    assert.equal(props.size.description, 'How big.');
    assert.deepEqual([props.replicas.type, props.replicas.minimum, props.replicas.maximum], ['integer', 1, 9]);
    assert.deepEqual([props.ratio.exclusiveMinimum, props.ratio.exclusiveMaximum], [0, 1]);
    assert.equal(props.ports.uniqueItems, true);
    assert.equal(props.labels.maxProperties, 5);
    assert.deepEqual(props.labels.propertyNames.not, { pattern: '^[aA][wW][sS]:' });
    assert.equal(props.password.writeOnly, true);
    assert.equal(props.password.default, undefined, "a sensitive variable's default is not shown");
    assert.ok(typed.outputs.some((o: { name: string; sensitive: boolean }) => o.name === 'password' && o.sensitive));
    assertProblem(await system.http().get('/api/templates/nope'), 404, 'template-not-found');
  });

  test('tf/ is the ec2instance template: its operator settings are not inputs, and its limits come from its own validation blocks', async () => {
    const template = (
      await loadCatalogue({ templatesDir: undefined, singleDir: path.join(ROOT, 'tf') }, { canEncrypt: false })
    ).get('ec2instance');
    assert.ok(template);
    assert.deepEqual(
      template.inputs.map((i) => i.name),
      ['instance_type', 'node_count', 'tags'],
    );
    assert.deepEqual(
      template.operatorSet.map((v) => v.name),
      ['ingress_cidr_blocks', 'root_volume_size', 'subnet_ids'],
    );
    assert.deepEqual(template.defaults, { instance_type: 't3.micro', node_count: 1, tags: {} });
    const schema = template.inputsSchema;
    assert.ok(schema.safeParse({ instance_type: 'm7i.large', node_count: 10, tags: { Équipe: 'données' } }).success);
    for (const bad of [
      { instance_type: 'p5.48xlarge' },
      { node_count: 11 },
      { node_count: 1.5 },
      { tags: { 'aws:x': 'y' } },
      { tags: { 'Managed-By': 'me' } },
      { tags: { 'tfcompute:resource-id': 'x' } },
      { tags: { Name: 'x' } },
      { tags: { env: 'a', Env: 'b' } },
      { subnet_ids: ['subnet-1'] },
    ]) {
      assert.equal(schema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  test('documents each template in /openapi.json with its own request schema', async () => {
    const system = await startSystem({ env });
    const document = (await system.http().get('/openapi.json')).body;
    for (const path of ['/api/typed', '/api/typed/{id}', '/api/typed/{id}/retry', '/api/ec2instance', '/api/templates'])
      assert.ok(document.paths[path], path);
    assert.equal(document.paths['/api/typed'].post.operationId, 'createTyped');
    const schema = document.components.schemas.CreateTypedRequest;
    assert.deepEqual(schema.required, ['name']);
    assert.ok(schema.properties.ttl);
    assert.ok(document.tags.some((tag: { name: string }) => tag.name === 'typed'));
  });
});

describe('creating from a template', () => {
  test('a valid create becomes ready, and its outputs show Terraform applied the defaults it was not given', async () => {
    const system = await startSystem({ env });
    // In a process of its own, so its log lines can be read.
    const worker = await system.spawnWorker();
    const res = await system
      .http()
      .post('/api/typed')
      .set('Prefer', 'wait=60')
      .send({ name: 'web-1', ports: [443, 80], password: SECRET });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.headers.location, `/api/typed/${res.body.id}`);
    assert.equal(res.body.template.name, 'typed');
    assert.match(res.body.template.version, /^[0-9a-f]{16}$/);
    assert.equal(res.body.inputs.name, 'web-1');
    assert.equal(res.body.inputs.replicas, 2, 'defaults are shown beside what was set');
    assert.equal(res.body.inputs.password, undefined);
    const out = res.body.outputs;
    assert.equal(out.resource_id, res.body.id);
    assert.equal(out.replicas, 2);
    assert.deepEqual(
      out.network,
      { cidr: '10.0.0.0/16', private: true, dns: null, mtu: 1500 },
      "optional attributes' defaults, by Terraform",
    );
    assert.deepEqual(
      [...out.ports].sort((a: number, b: number) => a - b),
      [80, 443],
    );
    assert.equal(out.subnet_id, 'subnet-from-operator', 'the operator-set variable came from TF_VAR_');
    assert.equal(out.password_length, SECRET.length, 'Terraform received the sensitive input');
    assert.equal(out.password, '[REDACTED]');

    const job = (await system.http().get(res.body.job.href)).body;
    const log = (await system.http().get(`${res.body.job.href}/log`)).text;
    const list = (await system.http().get('/api/typed')).body;
    const everything = await system.everythingInRedis();
    const workerLog = JSON.stringify(worker.logs);
    assert.ok(workerLog.includes(res.body.job.id), 'the worker logged the job');
    const places: Record<string, string> = {
      stack: JSON.stringify(res.body),
      job: JSON.stringify(job),
      'job log': log,
      list: JSON.stringify(list),
      redis: everything,
      'worker log': workerLog,
    };
    for (const [where, text] of Object.entries(places))
      assert.ok(!text.includes(SECRET), `the sensitive input is not in the ${where}`);
    assert.equal(list.items.length, 1);
    assert.equal(
      (await system.http().get('/api/ec2instance')).body.items.length,
      0,
      "another template's list does not show it",
    );
    assertProblem(await system.http().get(`/api/ec2instance/${res.body.id}`), 404, 'resource-not-found');

    const deleted = await system.http().delete(`/api/typed/${res.body.id}`).set('Prefer', 'wait=60');
    assert.equal(deleted.body.status, 'deleted', JSON.stringify(deleted.body.error));
  });

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['a missing required input', {}, 'name'],
    ['a string where a number belongs', { name: 'abc', replicas: '2' }, 'replicas'],
    ['a number where a string belongs', { name: 123 }, 'name'],
    ['"true" for a bool', { name: 'abc', enabled: 'true' }, 'enabled'],
    ['a value off the contains() list', { name: 'abc', size: 'huge' }, 'size'],
    ['a number out of range', { name: 'abc', replicas: 10 }, 'replicas'],
    ['a fraction where floor() == x is required', { name: 'abc', replicas: 1.5 }, 'replicas'],
    ['an exclusive bound hit', { name: 'abc', ratio: 1 }, 'ratio'],
    ['a string that does not match the regex', { name: 'Abc' }, 'name'],
    ['a string too short by length()', { name: 'ab' }, 'name'],
    ['a map with too many keys', { name: 'abc', labels: { a: '1', b: '2', c: '3', d: '4', e: '5', f: '6' } }, 'labels'],
    ['a map key matching a refused pattern', { name: 'abc', labels: { 'AWS:x': '1' } }, 'labels'],
    ['a list item off the list', { name: 'abc', zones: ['d'] }, 'zones'],
    ['a set with a repeated item', { name: 'abc', ports: [22, 22] }, 'ports'],
    ['an unknown object attribute', { name: 'abc', network: { cidr: 'x', vlan: 1 } }, 'network'],
    ['an object without its required attribute', { name: 'abc', network: { private: true } }, 'network'],
    ['a tuple of the wrong length', { name: 'abc', pair: ['x', 1, 2] }, 'pair'],
    ['null for a variable that is not nullable', { name: 'abc', strict_flag: null }, 'strict_flag'],
    ['a string not in NFC', { name: 'abc', notes: 'cafe\u0301' }, 'notes'],
    ['an operator-set variable', { name: 'abc', subnet_id: 'subnet-mine' }, 'subnet_id'],
    ['resource_id', { name: 'abc', resource_id: 'aaaaaaaaaaaaaaaa' }, 'resource_id'],
  ];
  test('refuses every invalid input with 400 naming the field, and records nothing', async () => {
    const system = await startSystem({ env });
    for (const [what, body, field] of invalid) {
      const res = await system.http().post('/api/typed').send(body);
      assertProblem(res, 400, 'validation-failed');
      assert.ok(
        res.body.errors.some(
          (e: { path: string; message: string }) => e.path.startsWith(field) || e.message.includes(field),
        ),
        `${what}: the errors name ${field}: ${JSON.stringify(res.body.errors)}`,
      );
    }
    assert.equal(await system.store.stacks.count(), 0);
    assert.equal(await system.queue.getWaitingCount(), 0);
  });

  test("a validation the API does not translate fails the job with Terraform's own message", async () => {
    const system = await startSystem({ env, worker: true });
    const res = await system
      .http()
      .post('/api/typed')
      .set('Prefer', 'wait=60')
      .send({ name: 'abc', checked_late: 'Forbidden' });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'failed');
    assert.match(res.body.error.message, /Invalid value for variable/);
    assert.ok(
      res.body.error.diagnostics.some((d: { detail: string }) =>
        d.detail.includes('checked_late must not be forbidden, in any case'),
      ),
      JSON.stringify(res.body.error.diagnostics),
    );
  });
});

describe('template versions', () => {
  test('a worker with another version of the template hands the job back, then fails it naming both versions', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tfc-templates-'));
    try {
      await cp(path.join(ROOT, 'test', 'fixtures', 'ok'), path.join(dir, 'ec2instance'), {
        recursive: true,
        dereference: true,
      });
      const system = await startSystem({ env: { TEMPLATES_DIR: dir, TEMPLATE_VERSION_WAIT_SECONDS: '2' } });
      const before = (await system.http().get('/api/templates/ec2instance')).body.version;
      await writeFile(path.join(dir, 'ec2instance', 'extra.tf'), 'locals {\n  changed = true\n}\n');
      await system.startWorker();
      const res = await system.http().post('/api/ec2instance').set('Prefer', 'wait=30').send({});
      assert.equal(res.body.status, 'failed', JSON.stringify(res.body));
      assert.match(
        res.body.error.message,
        new RegExp(
          `validated against template ec2instance version ${before}, and this worker has version [0-9a-f]{16}`,
        ),
      );
      assert.equal(res.body.job.status, 'failed');
      assert.deepEqual(await system.stateAddresses(res.body.id), [], 'nothing was applied');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a retry runs the template as served now: inputs it no longer accepts are a 409, and otherwise the stack and its job take the new version', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tfc-templates-'));
    try {
      const template = path.join(dir, 'ec2instance');
      await cp(path.join(ROOT, 'test', 'fixtures', 'fail'), template, { recursive: true, dereference: true });
      const system = await startSystem({ env: { TEMPLATES_DIR: dir } });
      const firstWorker = await system.startWorker();
      const created = await system
        .http()
        .post('/api/ec2instance')
        .set('Prefer', 'wait=60')
        .send({ instance_type: 't3.small' });
      assert.equal(created.body.status, 'failed', JSON.stringify(created.body));
      const v1 = created.body.template.version;
      assert.deepEqual(
        (await system.http().get(created.body.job.href)).body.template,
        { name: 'ec2instance', version: v1 },
        'the job names the version it ran',
      );
      await firstWorker.stop();

      // The operator narrows the allowed instance types and redeploys.
      const settings = JSON.parse(await readFile(path.join(template, 'template.json'), 'utf8'));
      await writeFile(
        path.join(template, 'template.json'),
        JSON.stringify({ ...settings, variables: { ...settings.variables, instance_type: { enum: ['t3.micro'] } } }),
      );
      await system.startApi();
      const refused = await system.http().post(`/api/ec2instance/${created.body.id}/retry`);
      assertProblem(refused, 409, 'inputs-not-valid-for-template');
      assert.ok(
        refused.body.errors.some((e: { path: string }) => e.path === 'instance_type'),
        JSON.stringify(refused.body),
      );
      const unchanged = await system.stack(created.body.id);
      assert.deepEqual(
        [unchanged.status, unchanged.template.version, unchanged.job.id],
        ['failed', v1, created.body.job.id],
        'nothing changed',
      );

      // It widens them again, with another change besides: a third version.
      await writeFile(path.join(template, 'template.json'), JSON.stringify(settings));
      await writeFile(path.join(template, 'extra.tf'), 'locals {\n  changed = true\n}\n');
      await system.startApi();
      await system.startWorker();
      const v3 = (await system.http().get('/api/templates/ec2instance')).body.version;
      assert.notEqual(v3, v1);
      const retried = await system.http().post(`/api/ec2instance/${created.body.id}/retry`).set('Prefer', 'wait=60');
      assert.equal(retried.body.status, 'ready', JSON.stringify(retried.body));
      assert.deepEqual(retried.body.template, { name: 'ec2instance', version: v3 });
      assert.deepEqual((await system.http().get(retried.body.job.href)).body.template, {
        name: 'ec2instance',
        version: v3,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the version changes with any file of the template or of a local module it sources', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tfc-templates-'));
    try {
      const template = path.join(dir, 'site');
      await cp(path.join(ROOT, 'test', 'fixtures', 'ok'), template, { recursive: true, dereference: true });
      await cp(path.join(ROOT, 'test', 'fixtures', 'ok'), path.join(dir, 'modules', 'part'), {
        recursive: true,
        dereference: true,
      });
      await writeFile(path.join(template, 'part.tf'), 'module "part" {\n  source = "../modules/part"\n}\n');
      const version = async () =>
        (await loadCatalogue({ templatesDir: dir, singleDir: '' }, { canEncrypt: false })).get('site')?.version;
      const first = await version();
      assert.equal(await version(), first, 'stable while nothing changes');
      await writeFile(path.join(template, '.terraform.lock.hcl'), '# written by init\n');
      assert.equal(await version(), first, "init's files are not content");
      await writeFile(path.join(dir, 'modules', 'part', 'main.tf'), '# changed\n');
      const second = await version();
      assert.notEqual(second, first);
      await writeFile(path.join(template, 'main.tf'), '# changed too\n');
      assert.notEqual(await version(), second);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('start-up refuses a catalogue it cannot serve correctly, naming the file', () => {
  const cases: Array<[string, (dir: string) => Promise<void>, RegExp, boolean?]> = [
    [
      'invalid JSON in template.json',
      (dir) => writeFile(path.join(dir, 'template.json'), '{ nope'),
      /template\.json: not valid JSON/,
    ],
    [
      'a template.json naming a variable that does not exist',
      (dir) => writeFile(path.join(dir, 'template.json'), '{"variables": {"nodes": {"expose": false}}}'),
      /template\.json: variables\.nodes: the module declares no such variable/,
    ],
    [
      "an enum value the variable's type refuses",
      (dir) => writeFile(path.join(dir, 'template.json'), '{"variables": {"node_count": {"enum": ["one"]}}}'),
      /variables\.node_count\.enum: "one" is not a valid value/,
    ],
    [
      'a sensitive input without ENCRYPTION_KEY',
      (dir) =>
        writeFile(path.join(dir, 'secret.tf'), 'variable "token" {\n  type      = string\n  sensitive = true\n}\n'),
      /token are sensitive.*set ENCRYPTION_KEY/,
      false,
    ],
    [
      'a type constraint it cannot map',
      (dir) =>
        writeFile(
          path.join(dir, 'odd.tf'),
          'variable "odd" {\n  type = list(map(tuple([string])))\n  default = []\n}\nvariable "worse" {\n  type = optional(string)\n}\n',
        ),
      /odd\.tf: variable "worse": unsupported type constraint/,
    ],
  ];
  for (const [what, change, message, canEncrypt = true] of cases) {
    test(what, async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'tfc-templates-'));
      try {
        const template = path.join(dir, 'broken');
        await cp(path.join(ROOT, 'test', 'fixtures', 'ok'), template, { recursive: true, dereference: true });
        await change(template);
        await assert.rejects(loadCatalogue({ templatesDir: dir, singleDir: '' }, { canEncrypt }), (error: Error) => {
          assert.ok(error instanceof ConfigError, error.message);
          assert.match(error.message, message);
          assert.ok(error.message.includes(template), `names ${template}: ${error.message}`);
          return true;
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  test("a directory name that is not a valid route, or is one of the API's own", async () => {
    for (const name of ['Bad_Name', 'jobs']) {
      const dir = await mkdtemp(path.join(tmpdir(), 'tfc-templates-'));
      try {
        await cp(path.join(ROOT, 'test', 'fixtures', 'ok'), path.join(dir, name), {
          recursive: true,
          dereference: true,
        });
        await assert.rejects(
          loadCatalogue({ templatesDir: dir, singleDir: '' }, { canEncrypt: false }),
          new RegExp(`template ${path.join(dir, name)}:`),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });
});
