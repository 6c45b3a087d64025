// Small pieces on their own: how Terraform is invoked (with a stand-in binary
// that reports what it received), reading Terraform's JSON output, the Prefer
// header and configuration errors.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { preferredWait } from '../api/prefer.ts';
import { ConfigError, loadConfig } from '../core/config.ts';
import { applyMergePatch } from '../core/merge-patch.ts';
import { attemptsFor, retryDelay } from '../core/events/retry-schedule.ts';
import { parseRetryAfter } from '../worker/webhooks/retry-after.ts';
import { REDACTED, RunTracker, isTransient } from '../worker/terraform/run-tracker.ts';
import { ErroredState } from '../worker/terraform/errored-state.ts';
import { Terraform, TerraformError } from '../worker/terraform/terraform.ts';
import { WorkspaceRunner } from '../worker/terraform/workspace-runner.ts';

describe('running terraform', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-unit-'));
    await writeFile(path.join(dir, 'fake-terraform'), '#!/bin/sh\nprintf "%s\\n" "$@"\necho ---\nenv | sort\n');
    await chmod(path.join(dir, 'fake-terraform'), 0o755);
    await writeFile(path.join(dir, 'slow-terraform'), '#!/bin/sh\necho started\nexec sleep 30\n');
    await chmod(path.join(dir, 'slow-terraform'), 0o755);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("passes arguments as they are, without a shell, and a minimal environment without the service's secrets", async () => {
    const config = loadConfig({
      PATH: process.env.PATH,
      HOME: '/home/tfcompute',
      TF_BIN: path.join(dir, 'fake-terraform'),
      TF_CWD: dir,
      REDIS_URL: 'redis://:hunter2@127.0.0.1:6379',
      API_TOKENS: 'ci:read+write:secret-token-0123456789abcdef',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_REGION: 'eu-west-1',
      TF_VAR_subnet_id: 'subnet-0123456789abcdef0',
      TF_LOG: 'TRACE',
    });
    const terraform = new Terraform({
      ...config.terraform,
      cwd: config.templates.singleDir,
      dataDir: path.join(dir, 'data'),
      graceMs: 1000,
    });
    const tricky = '-var=tags={"k":"$(touch /tmp/pwned); `id` | ;"}';
    const result = await terraform.run(['apply', tricky, '-input=false'], { workspace: 'abc0123456789xyz' });
    assert.equal(result.exitCode, 0);
    const [args, env] = result.stdout.split('---\n') as [string, string];
    assert.deepEqual(args.trim().split('\n'), ['apply', tricky, '-input=false']);
    const vars = Object.fromEntries(
      env
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    assert.equal(vars.TF_WORKSPACE, 'abc0123456789xyz');
    assert.equal(vars.TF_IN_AUTOMATION, '1');
    assert.equal(vars.TF_INPUT, '0');
    assert.equal(vars.TF_DATA_DIR, path.join(dir, 'data'));
    assert.equal(vars.AWS_ACCESS_KEY_ID, 'AKIAEXAMPLE');
    assert.equal(vars.TF_VAR_subnet_id, 'subnet-0123456789abcdef0');
    assert.ok(vars.TF_CLI_CONFIG_FILE, 'a CLI config file is always given');
    for (const name of ['REDIS_URL', 'API_TOKENS', 'TF_LOG'])
      assert.equal(vars[name], undefined, `${name} is not passed`);
    // The shell adds PWD, SHLVL and _; Node adds NODE_V8_COVERAGE to every
    // child while the suite measures coverage.
    const allowed =
      /^(PATH|HOME|PWD|SHLVL|_|OLDPWD|CHECKPOINT_DISABLE|NODE_V8_COVERAGE|TF_[A-Z_]+|TF_VAR_\w+|AWS_[A-Z_]+)$/;
    for (const name of Object.keys(vars)) assert.match(name, allowed);
  });

  test('the workspace runner gives each Terraform command its exact argument list', async () => {
    const config = loadConfig({ PATH: process.env.PATH, TF_BIN: path.join(dir, 'fake-terraform'), TF_CWD: dir });
    const terraform = new Terraform({
      ...config.terraform,
      cwd: config.templates.singleDir,
      dataDir: path.join(dir, 'data'),
      graceMs: 1000,
    });
    const erroredDir = path.join(dir, 'errored');
    const workspace = 'abc0123456789xyz';
    const lines: string[] = [];
    const runner = (holdsLock: boolean) =>
      new WorkspaceRunner(terraform, new ErroredState(erroredDir, 'w1'), {
        workspace,
        cwd: dir,
        varFile: '/vars/j.tfvars.json',
        holdsLock,
        log: (text) => lines.push(text),
        progress: () => undefined,
      });
    // The stand-in prints its arguments, "---", then its environment.
    const run = async (command: () => Promise<unknown>) => {
      lines.length = 0;
      await command();
      const end = lines.indexOf('---');
      return { args: lines.slice(0, end), env: lines.slice(end + 1) };
    };
    const locked = runner(true);
    assert.deepEqual((await run(() => locked.apply(undefined))).args, [
      'apply',
      '-auto-approve',
      '-input=false',
      '-json',
      '-lock=false',
      '-var-file=/vars/j.tfvars.json',
    ]);
    assert.deepEqual((await run(() => locked.destroy(undefined))).args, [
      'destroy',
      '-auto-approve',
      '-input=false',
      '-json',
      '-lock=false',
      '-var-file=/vars/j.tfvars.json',
    ]);
    assert.deepEqual((await run(() => runner(false).apply(undefined))).args, [
      'apply',
      '-auto-approve',
      '-input=false',
      '-json',
      '-var-file=/vars/j.tfvars.json',
    ]);
    const created = await run(() => locked.newWorkspace());
    assert.deepEqual(created.args, ['workspace', 'new', '-no-color', workspace]);
    assert.ok(created.env.includes(`TF_WORKSPACE=${workspace}`));
    assert.deepEqual((await run(() => locked.listState())).args, ['state', 'list']);
    const deleted = await run(() => locked.deleteWorkspace());
    assert.deepEqual(deleted.args, ['workspace', 'delete', '-no-color', workspace]);
    assert.ok(deleted.env.includes('TF_WORKSPACE=default'), 'Terraform will not delete the selected workspace');
    // Kept state is pushed only when there is some.
    assert.deepEqual((await run(() => locked.pushErroredState())).args, []);
    await mkdir(erroredDir, { recursive: true });
    await writeFile(path.join(erroredDir, `${workspace}.tfstate`), '{}');
    assert.deepEqual((await run(() => locked.pushErroredState())).args, [
      'state',
      'push',
      '-lock=false',
      path.join(erroredDir, `${workspace}.tfstate`),
    ]);
  });

  test('a failed command is one TerraformError naming the command and the workspace, with the output kept', async () => {
    await writeFile(
      path.join(dir, 'failing-terraform'),
      '#!/bin/sh\necho "partial output"\necho "Error: the backend said no" >&2\nexit 1\n',
    );
    await chmod(path.join(dir, 'failing-terraform'), 0o755);
    const config = loadConfig({ PATH: process.env.PATH, TF_BIN: path.join(dir, 'failing-terraform'), TF_CWD: dir });
    const terraform = new Terraform({
      ...config.terraform,
      cwd: config.templates.singleDir,
      dataDir: path.join(dir, 'data'),
      graceMs: 1000,
    });
    const runner = new WorkspaceRunner(terraform, new ErroredState(path.join(dir, 'errored'), 'w1'), {
      workspace: 'abc0123456789xyz',
      cwd: dir,
      varFile: '/vars/j.tfvars.json',
      holdsLock: false,
      log: () => undefined,
      progress: () => undefined,
    });
    await assert.rejects(runner.apply(undefined), (error: unknown) => {
      assert.ok(error instanceof TerraformError);
      assert.equal(error.command, 'apply');
      assert.equal(error.workspace, 'abc0123456789xyz');
      assert.equal(error.exitCode, 1);
      assert.match(error.output, /partial output[\s\S]*the backend said no/);
      // What Terraform wrote outside -json may name local paths: the job's log has it, not the message.
      assert.equal(error.detail.message, "terraform apply failed: exit code 1; Terraform's output is in the job's log");
      assert.equal(error.detail.code, 'terraform-failed');
      assert.equal(error.detail.retryable, false);
      return true;
    });
  });

  test('reports a subprocess stopped through its signal as interrupted', async () => {
    const config = loadConfig({ PATH: process.env.PATH, TF_BIN: path.join(dir, 'slow-terraform'), TF_CWD: dir });
    const terraform = new Terraform({
      ...config.terraform,
      cwd: config.templates.singleDir,
      dataDir: path.join(dir, 'data'),
      graceMs: 1000,
    });
    const controller = new AbortController();
    const result = await terraform.run(['apply'], {
      workspace: 'default',
      signal: controller.signal,
      onLine: () => controller.abort(),
    });
    assert.equal(result.interrupted, true);
    assert.notEqual(result.exitCode, 0);
  });

  test('stops a subprocess that outlives the job timeout and says so', async () => {
    const config = loadConfig({ PATH: process.env.PATH, TF_BIN: path.join(dir, 'slow-terraform'), TF_CWD: dir });
    const terraform = new Terraform({
      ...config.terraform,
      cwd: config.templates.singleDir,
      timeoutMs: 200,
      dataDir: path.join(dir, 'data'),
      graceMs: 1000,
    });
    const started = performance.now();
    const result = await terraform.run(['apply'], { workspace: 'default' });
    assert.equal(result.timedOut, true);
    assert.equal(result.interrupted, false);
    assert.ok(performance.now() - started < 5_000);
  });
});

describe('reading terraform -json output', () => {
  const line = (message: object) => JSON.stringify({ '@level': 'info', '@message': 'm', ...message });

  test('tracks progress, the change summary, outputs with sensitive values redacted, and diagnostics', () => {
    const tracker = new RunTracker();
    tracker.handle(line({ type: 'planned_change', change: { action: 'create' } }));
    tracker.handle(line({ type: 'planned_change', change: { action: 'create' } }));
    tracker.handle(line({ type: 'change_summary', changes: { add: 2, change: 0, remove: 0, operation: 'plan' } }));
    assert.deepEqual(tracker.progress, { completed: 0, total: 2 });
    tracker.handle(line({ type: 'outputs', outputs: { password: { sensitive: true, action: 'create' } } }));
    assert.equal(tracker.outputs, undefined, 'planned outputs carry no values');
    assert.equal(tracker.handle(line({ type: 'apply_complete' })).progressed, true);
    assert.deepEqual(tracker.progress, { completed: 1, total: 2 });
    tracker.handle(line({ type: 'change_summary', changes: { add: 2, change: 0, remove: 0, operation: 'apply' } }));
    tracker.handle(
      line({
        type: 'outputs',
        outputs: {
          password: { sensitive: true, type: 'string', value: 'hunter2' },
          private_ips: { sensitive: false, type: ['list', 'string'], value: ['10.0.0.1'] },
        },
      }),
    );
    assert.deepEqual(tracker.outputs, { password: REDACTED, private_ips: ['10.0.0.1'] });
    assert.deepEqual(tracker.changes, { add: 2, change: 0, remove: 0 });
    assert.deepEqual(tracker.progress, { completed: 2, total: 2 });

    const { text } = tracker.handle(
      line({
        type: 'diagnostic',
        diagnostic: { severity: 'error', summary: 'Bad thing', detail: 'Details \u001b[31mred\u001b[0m' },
      }),
    );
    assert.equal(text, 'Error: Bad thing\n\nDetails red\n');
    assert.deepEqual(tracker.errors, [{ severity: 'error', summary: 'Bad thing', detail: 'Details red' }]);
  });

  test('tells transient failures from permanent ones', () => {
    const diag = (summary: string, detail = '') => [{ severity: 'error' as const, summary, detail }];
    assert.equal(isTransient(diag('Error acquiring the state lock', 'ConditionalCheckFailedException'), ''), true);
    assert.equal(
      isTransient(diag('Failed to save state', 'dial tcp 127.0.0.1:9: connect: connection refused'), ''),
      true,
    );
    assert.equal(isTransient(diag('local-exec provisioner error', 'exit status 3'), ''), false);
    assert.equal(isTransient(diag('Unsupported argument'), ''), false);
  });
});

describe('Prefer: wait', () => {
  test('is read from the header, capped, and ignored when it cannot be understood', () => {
    assert.equal(preferredWait(undefined), undefined);
    assert.equal(preferredWait('wait=10'), 10);
    assert.equal(preferredWait('respond-async, wait=5'), 5);
    assert.equal(preferredWait('return=minimal; foo="bar", wait="7"'), 7);
    assert.equal(preferredWait('wait=100000'), 300);
    assert.equal(preferredWait('wait=-1'), undefined);
    assert.equal(preferredWait('wait=soon'), undefined);
  });
});

describe('configuration', () => {
  test('the image starts the API with the same Node.js flags as `npm run api`', async () => {
    const { API_NODE_FLAGS } = await import('../scripts/api-node-flags.ts');
    const dockerfile = await readFile(path.join(import.meta.dirname, '..', 'Dockerfile'), 'utf8');
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    assert.ok(API_NODE_FLAGS.length > 0);
    assert.deepEqual(cmd, ['node', ...API_NODE_FLAGS, 'api/main.ts']);
  });

  test('an invalid value stops start-up with a message that names it', () => {
    assert.throws(
      () => loadConfig({ WORKER_CONCURRENCY: 'lots' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /WORKER_CONCURRENCY/);
        return true;
      },
    );
    assert.throws(() => loadConfig({ REDIS_URL: 'http://example.com' }), /REDIS_URL/);
    assert.throws(() => loadConfig({ PORT: '70000' }), /PORT/);
  });

  test('REDIS_SENTINELS needs REDIS_SENTINEL_NAME and excludes REDIS_CLUSTER_NODES; a cluster gets the prefix as a hash tag', () => {
    assert.throws(() => loadConfig({ REDIS_SENTINELS: '127.0.0.1:26379' }), /REDIS_SENTINEL_NAME: needed/);
    assert.throws(() => loadConfig({ REDIS_SENTINEL_NAME: 'tfc' }), /REDIS_SENTINEL_NAME: only means something/);
    assert.throws(
      () => loadConfig({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'tfc', REDIS_CLUSTER_NODES: 'b:2' }),
      /not both/,
    );
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'b:2', REDIS_WAIT_REPLICAS: '1' }), /REDIS_WAIT_REPLICAS/);
    assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'no-port' }), /REDIS_CLUSTER_NODES/);
    const sentinel = loadConfig({
      REDIS_SENTINELS: 'a:26379, [::1]:26380',
      REDIS_SENTINEL_NAME: 'tfc',
      REDIS_PREFIX: 'p',
    });
    assert.deepEqual(sentinel.redis, {
      kind: 'sentinel',
      sentinels: [
        { host: 'a', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'tfc',
      url: 'redis://127.0.0.1:6379',
    });
    assert.equal(sentinel.redisPrefix, 'p');
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001', REDIS_PREFIX: 'p' });
    assert.deepEqual(cluster.redis, {
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      url: 'redis://127.0.0.1:6379',
    });
    assert.equal(cluster.redisPrefix, '{p}');
  });

  test('has the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.deepEqual(config.redis, { kind: 'single', url: 'redis://127.0.0.1:6379' });
    assert.equal(config.terraform.bin, 'terraform');
    assert.equal(config.templates.singleDir, path.resolve('tf'));
    assert.equal(config.templates.templatesDir, undefined);
    assert.equal(config.worker.concurrency, 2);
    assert.deepEqual(config.worker.driftCheck, { intervalMs: undefined, concurrency: 1 });
  });

  test('DRIFT_CHECK_INTERVAL is "off" or a duration; the sweep looks a quarter of it apart, within bounds', async () => {
    const { sweepEveryMs } = await import('../worker/jobs/drift-checks.ts');
    const interval = (value: string) => loadConfig({ DRIFT_CHECK_INTERVAL: value }).worker.driftCheck.intervalMs;
    assert.equal(interval('off'), undefined);
    assert.equal(interval('30s'), 30_000);
    assert.equal(interval('15m'), 900_000);
    assert.equal(interval('6h'), 21_600_000);
    assert.equal(interval('1d'), 86_400_000);
    for (const bad of ['0s', '6', 'h', '1w', '1.5h', 'on', ''])
      assert.throws(() => interval(bad), /DRIFT_CHECK_INTERVAL/, bad);
    assert.throws(() => loadConfig({ DRIFT_CHECK_CONCURRENCY: '0' }), /DRIFT_CHECK_CONCURRENCY/);
    assert.deepEqual([sweepEveryMs(400), sweepEveryMs(30_000), sweepEveryMs(86_400_000)], [250, 7_500, 60_000]);
  });
});

describe('JSON Merge Patch', () => {
  test("RFC 7396's examples (appendix A), and keys that name Object's own properties are data", () => {
    const cases: Array<[unknown, unknown, unknown]> = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [
        ['a', 'b'],
        ['c', 'd'],
        ['c', 'd'],
      ],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of cases)
      assert.deepEqual(applyMergePatch(target, patch), result, JSON.stringify([target, patch]));
    const tags = applyMergePatch(
      { tags: { team: 'a' } },
      JSON.parse('{"tags": {"constructor": "x", "__proto__": "y", "env": "dev"}}'),
    ) as { tags: Record<string, unknown> };
    assert.deepEqual(Object.keys(tags.tags), ['team', 'constructor', '__proto__', 'env']);
    assert.equal(({} as Record<string, unknown>).y, undefined, 'no prototype was touched');
    const target = { a: { b: 1 } };
    applyMergePatch(target, { a: { b: 2 } });
    assert.deepEqual(target, { a: { b: 1 } }, 'the target is not changed');
  });
});

describe('webhook retries', () => {
  const defaults = loadConfig({}).webhooks;

  test('at the defaults: the first retry within 10 s, doubling with jitter to an hour, retrying for about a day in all', () => {
    const first = [0, 0.5, 0.999].map((r) => retryDelay(defaults, 1, undefined, () => r));
    assert.ok(
      first.every((ms) => ms >= 2_500 && ms <= 5_000),
      `first retry after ${first.join(', ')} ms`,
    );
    assert.equal(
      retryDelay(defaults, 2, undefined, () => 1),
      10_000,
    );
    assert.equal(
      retryDelay(defaults, 30, undefined, () => 1),
      3_600_000,
      'at most an hour',
    );
    const attempts = attemptsFor(defaults);
    let expected = 0;
    for (let retry = 1; retry < attempts; retry++) expected += retryDelay(defaults, retry, undefined, () => 0.5);
    assert.ok(
      expected > 0.95 * 86_400_000 && expected < 1.1 * 86_400_000,
      `${attempts} attempts span ${(expected / 3_600_000).toFixed(1)} h on average`,
    );
  });

  test("a receiver's Retry-After is honoured, in seconds or as an HTTP date, within the maximum delay", () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Tue, 01 Dec 2026 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(retryDelay(defaults, 1, 120_000), 120_000);
    assert.equal(retryDelay(defaults, 1, 7 * 86_400_000), 3_600_000);
  });
});
