// The web console in a real browser (Debian's Chromium, driven by
// playwright-core) against the real API, worker, Terraform and emulators:
// what a user sees, found by role and accessible name; axe-core on every
// page; and the console's defences (CSP, cookie, CSRF, escaping, sessions
// that end with their token). One browser for the file; UPDATE_SCREENSHOTS=1
// writes the README's screenshots into docs/console/.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { accessible, ConsoleBrowser, signIn, XSS } from './support/console-browser.ts';
import { createSystem, ROOT, startServices, type Services, type TestSystem, TOKENS } from './support/harness.ts';

// A token whose only role is in a project no test stack is in.
const OUTSIDER = 'outsider-token-0123456789abcdefg';

let services: Services;
let system: TestSystem;
let browser: ConsoleBrowser;

before(async () => {
  services = await startServices();
  system = await createSystem(services, {
    env: {
      TEMPLATES_DIR: path.join(ROOT, 'test', 'templates'),
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      TF_VAR_subnet_id: 'subnet-1',
      API_TOKENS: [
        `admin:read+write:${TOKENS.admin}`,
        `reader:read:${TOKENS.reader}`,
        `writer:write:${TOKENS.writer}`,
        `outsider:admin@elsewhere:${OUTSIDER}`,
      ].join(','),
    },
  });
  await system.startWorker();
  browser = await ConsoleBrowser.launch();
});

after(async () => {
  await browser?.close();
  await system?.stop();
  await services?.stop();
  assert.deepEqual(browser?.dialogs, [], 'no script a user typed ever ran');
});

// A new browser context (its own cookies), whose pages count dialogs.
const newPage = () => browser.newPage(system.baseUrl);

const sessionOf = async (page: Page) =>
  (await page.context().cookies()).find((c) => c.name === 'tfc_session')?.value ?? assert.fail('no session cookie');

// The console's live stream as a session reads it: the text so far, and a
// wait for a pattern in it (failing if the stream ends first).
async function liveStream(session: string, query = '') {
  const closing = new AbortController();
  const res = await fetch(`${system.baseUrl}/ui/events${query}`, {
    headers: { cookie: `tfc_session=${session}` },
    signal: closing.signal,
  });
  let text = '';
  let ended = false;
  const listeners: Array<() => void> = [];
  const heard = () => {
    for (const listener of listeners.splice(0)) listener();
  };
  void (async () => {
    const decoder = new TextDecoder();
    const reader = res.body?.getReader();
    for (;;) {
      const chunk = await reader?.read().catch(() => undefined);
      if (!chunk || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
      heard();
    }
    ended = true;
    heard();
  })();
  return {
    status: res.status,
    text: () => text,
    async until(pattern: RegExp): Promise<void> {
      while (!pattern.test(text)) {
        if (ended) assert.fail(`the stream ended without ${pattern}: ${text}`);
        await new Promise<void>((resolve) => listeners.push(resolve));
      }
    },
    close: () => closing.abort(),
  };
}

const stackIdOf = (page: Page) =>
  /\/ui\/stacks\/([0-9a-z]{16})$/.exec(page.url())?.[1] ?? assert.fail(`not a stack page: ${page.url()}`);
const jobIdOf = (page: Page) =>
  /\/ui\/jobs\/([0-9a-z]{16})$/.exec(page.url())?.[1] ?? assert.fail(`not a job page: ${page.url()}`);

describe('the web console', () => {
  let admin: Page;
  let ec2: string;
  let typed: string;

  test('the sign-in page sets a strict CSP and an HttpOnly, SameSite, /ui-only session cookie; a token signs in', async () => {
    ({ page: admin } = await newPage());
    const response = await admin.goto('/ui/login');
    const csp = response?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    const cookie = (await response?.headerValue('set-cookie')) ?? '';
    assert.match(
      cookie,
      /^tfc_session=[A-Za-z0-9_-]{43}; Path=\/ui; HttpOnly; SameSite=Lax$/,
      'not Secure over plain http, all else set',
    );
    await accessible(admin);
    await admin.getByLabel('Token').fill('tfc_not-a-token-at-all-0123456789');
    await admin.getByRole('button', { name: 'Sign in', exact: true }).click();
    await admin.getByText('That token is not valid').waitFor();
    await signIn(admin, TOKENS.admin);
    assert.equal(await admin.getByText(TOKENS.admin).count(), 0);
    assert.doesNotMatch(await admin.content(), new RegExp(TOKENS.admin), 'the token never reaches the browser again');
  });

  test('a 400 is shown beside its field with the input kept, the XSS value inert; then the stack is created and becomes ready without a reload', async () => {
    await admin.goto('/ui/templates');
    await accessible(admin, 'templates');
    await admin.getByRole('link', { name: 'New ec2instance stack' }).click();
    await accessible(admin);
    await admin.getByLabel('node_count').fill('2');
    await admin.getByLabel('Key 1').fill('aws:owner');
    await admin.getByLabel('Value 1').fill(XSS);
    await admin.getByRole('button', { name: 'Create' }).click();
    const tags = admin.getByRole('group', { name: 'tags' });
    const error = await tags.locator('.error').innerText();
    assert.match(error, /Invalid key in record/, "the API's own message for the field");
    assert.equal(await admin.getByLabel('Value 1').inputValue(), XSS, 'the input is kept');
    assert.equal(await admin.getByLabel('node_count').inputValue(), '2');
    assert.equal(await admin.locator('img').count(), 0);
    await accessible(admin, 'create-form-error');
    await admin.getByLabel('Key 1').fill('team');
    await admin.getByLabel('Value 1').fill('web');
    await admin.getByRole('button', { name: 'Create' }).click();
    ec2 = stackIdOf(admin);
    await admin.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    await admin.locator('#stack-status-value', { hasText: 'ready' }).waitFor({ timeout: 60_000 });
    assert.equal(
      await admin.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded),
      true,
      'the status changed in place',
    );
    await admin.reload();
    await admin.getByText('"i-', { exact: false }).first().waitFor();
    await accessible(admin, 'stack');

    await admin.goto('/ui/templates/typed/new');
    await admin.getByLabel('name (required)').fill('web-1');
    const labels = admin.getByRole('group', { name: 'labels' });
    await labels.getByLabel('Key 1').fill('x');
    await labels.getByLabel('Value 1').fill(XSS);
    await admin.getByLabel('notes').fill(XSS);
    await admin.getByRole('button', { name: 'Create' }).click();
    typed = stackIdOf(admin);
    await admin.locator('#stack-status-value', { hasText: 'ready' }).waitFor({ timeout: 60_000 });
    assert.ok((await admin.locator('main').innerText()).includes(XSS), 'shown as text');
    assert.equal(await admin.locator('main img').count(), 0);
    await admin.goto('/ui/');
    await admin.getByRole('link', { name: typed }).waitFor();
    await accessible(admin, 'stacks');
  });

  test('a change is planned, shows its counts, is approved and gives the new outputs; another plan is discarded', async () => {
    await admin.goto(`/ui/stacks/${ec2}`);
    await admin.getByRole('link', { name: 'Change' }).click();
    assert.equal(await admin.getByLabel('node_count').inputValue(), '2', 'the form is prefilled');
    await admin.getByLabel('node_count').fill('3');
    await admin.getByRole('button', { name: 'Plan the change' }).click();
    jobIdOf(admin);
    await admin.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 60_000 });
    assert.match(await admin.locator('.counts').innerText(), /1 to add, 0 to change, 0 to destroy, 0 to replace/);
    await admin.locator('ul.plan code', { hasText: 'terraform_data.instance[2]' }).waitFor();
    await accessible(admin, 'plan');
    await admin.getByRole('button', { name: 'Approve' }).click();
    await admin.locator('#job-status-value', { hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
    await admin.goto(`/ui/stacks/${ec2}`);
    assert.equal(
      (await admin.locator('dd pre', { hasText: '10.0.2.12' }).count()) > 0,
      true,
      'three private addresses',
    );

    await admin.getByRole('link', { name: 'Change' }).click();
    await admin.getByLabel('node_count').fill('1');
    await admin.getByRole('button', { name: 'Plan the change' }).click();
    await admin.getByRole('button', { name: 'Discard' }).click({ timeout: 60_000 });
    await admin.locator('#job-status-value', { hasText: 'discarded' }).waitFor();
  });

  test("a job's log is followed live, without a reload", async () => {
    await admin.goto(`/ui/stacks/${ec2}`);
    await admin.getByRole('button', { name: 'Plan' }).click();
    const job = jobIdOf(admin);
    await admin.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    await admin.locator('#log', { hasText: /No changes|Plan:/ }).waitFor({ timeout: 60_000 });
    assert.equal(await admin.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded), true);
    const shown = await admin.locator('#log').innerText();
    assert.equal(shown.trim(), (await system.store.logs.get(job)).trim(), 'the whole log, once');
    await accessible(admin, 'job');
  });

  test('the stack page lists its job history newest first, each a link to its job, with who asked; Plan adds a speculative plan to it; nothing polls', async () => {
    await admin.goto(`/ui/stacks/${ec2}`);
    const rest = (await system.http().get(`/api/ec2instance/${ec2}/jobs`)).body.items as Array<{
      id: string;
      action: string;
      status: string;
    }>;
    const rows = admin.locator('#job-history tbody tr');
    assert.deepEqual(
      await rows.locator('td:first-child').allInnerTexts(),
      rest.map((job) => job.id),
      'the REST history, in its order',
    );
    assert.deepEqual(
      await rows.locator('td:nth-child(2)').allInnerTexts(),
      rest.map((job) => job.action),
    );
    assert.equal(await rows.first().getByRole('link').getAttribute('href'), `/ui/jobs/${rest[0]?.id}`);
    assert.ok((await rows.locator('td:nth-child(4)').allInnerTexts()).every((name) => name === 'admin'));
    assert.equal(await admin.locator('[hx-trigger*="every"]').count(), 0, 'the stack page does not poll');
    await accessible(admin);

    await admin.getByRole('button', { name: 'Plan', exact: true }).click();
    const plan = jobIdOf(admin);
    await admin.locator('#job-status-value', { hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
    await admin.goto(`/ui/stacks/${ec2}`);
    assert.match(await rows.first().innerText(), new RegExp(`^${plan}\\s+plan\\s+succeeded\\s+admin\\s`));
    await rows.first().getByRole('link', { name: plan }).click();
    assert.equal(jobIdOf(admin), plan);
  });

  test('statuses reach the stack page and the stacks table over SSE, without a reload: a plan another user asks for, a stack created through the API', async () => {
    await admin.goto(`/ui/stacks/${ec2}`);
    await admin.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    const planned = await system.http(TOKENS.writer).post(`/api/ec2instance/${ec2}/plan`);
    assert.equal(planned.status, 202, JSON.stringify(planned.body));
    const row = admin.locator('#job-history tbody tr', { has: admin.getByRole('link', { name: planned.body.id }) });
    await row.locator('.status', { hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
    assert.match(await row.innerText(), /writer/);
    assert.equal(
      await admin.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded),
      true,
      'the history changed in place',
    );

    await admin.goto('/ui/');
    assert.equal(await admin.locator('[hx-trigger*="every"]').count(), 0, 'the table does not poll');
    await admin.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    const made = await system.http(TOKENS.writer).post('/api/ec2instance').send({});
    assert.equal(made.status, 202, JSON.stringify(made.body));
    const listed = admin.locator('#stack-rows tr', { has: admin.getByRole('link', { name: made.body.id }) });
    await listed.locator('.status', { hasText: 'ready' }).waitFor({ timeout: 60_000 });
    assert.equal(
      await admin.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded),
      true,
      'the table changed in place',
    );
  });

  test('Retry on a failed stack queues its create again, listed in its history; a read-only user sees the failed stack but no Plan or Retry', async () => {
    // A value only Terraform refuses: the create fails when it runs.
    const failed = await system
      .http()
      .post('/api/typed')
      .set('Prefer', 'wait=60')
      .send({ name: 'doomed', checked_late: 'forbidden' });
    assert.equal(failed.body.status, 'failed', JSON.stringify(failed.body));
    const { context, page } = await newPage();
    await signIn(page, TOKENS.reader);
    await page.goto(`/ui/stacks/${failed.body.id}`);
    await page.locator('#stack-status-value', { hasText: 'failed' }).waitFor();
    await page.locator('#job-history').getByRole('link', { name: failed.body.job.id }).waitFor();
    for (const name of ['Plan', 'Retry', 'Approve', 'Discard'])
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, name);
    await accessible(page);
    await context.close();

    await admin.goto(`/ui/stacks/${failed.body.id}`);
    await accessible(admin);
    await admin.getByRole('button', { name: 'Retry', exact: true }).click();
    const retry = jobIdOf(admin);
    assert.notEqual(retry, failed.body.job.id);
    await admin.locator('#job-status-value', { hasText: 'failed' }).waitFor({ timeout: 60_000 });
    await admin.goto(`/ui/stacks/${failed.body.id}`);
    const rows = admin.locator('#job-history tbody tr');
    assert.deepEqual(await rows.locator('td:first-child').allInnerTexts(), [retry, failed.body.job.id]);
    assert.deepEqual(await rows.locator('td:nth-child(2)').allInnerTexts(), ['create', 'create']);
    await admin.getByRole('button', { name: 'Retry', exact: true }).waitFor();
  });

  test('a waiting change is shown on the stack page with its counts and resources, beside Approve and Discard', async () => {
    const changed = await system
      .http()
      .patch(`/api/ec2instance/${ec2}`)
      .set('Prefer', 'wait=60')
      .send({ inputs: { node_count: 4 } });
    assert.equal(changed.body.job.status, 'planned', JSON.stringify(changed.body));
    await admin.goto(`/ui/stacks/${ec2}`);
    const waiting = admin.getByRole('region', { name: 'A change waits for approval' });
    assert.match(await waiting.locator('.counts').innerText(), /1 to add, 0 to change, 0 to destroy, 0 to replace/);
    await waiting.locator('ul.plan code', { hasText: 'terraform_data.instance[3]' }).waitFor();
    await waiting.getByRole('button', { name: 'Approve', exact: true }).waitFor();
    await accessible(admin);
    await waiting.getByRole('button', { name: 'Discard', exact: true }).click();
    await admin.locator('#job-status-value', { hasText: 'discarded' }).waitFor();
    await admin.goto(`/ui/stacks/${ec2}`);
    assert.equal(await admin.getByRole('button', { name: 'Approve', exact: true }).count(), 0);
    await admin.locator('#stack-status-value', { hasText: 'ready' }).waitFor();
  });

  test('values in the history and drift areas stay text, rendered with the page or swapped in live', async () => {
    const prefix = system.config.redisPrefix;
    const stack = (await system.store.stacks.get(typed)) ?? assert.fail('no typed stack');
    const drift = ['drift_status', 'drift_checked_at', 'drift_job_id', 'drift_resources'];
    const kept = await system.redis.hmget(`${prefix}:res:${typed}`, ...drift);
    const keptBy = await system.redis.hget(`${prefix}:job:${stack.job.id}`, 'created_by');
    try {
      await admin.goto(`/ui/stacks/${typed}`);
      await admin.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
      // What Terraform (a stack address) or a principal's name could carry.
      await system.redis.hset(`${prefix}:res:${typed}`, {
        drift_status: 'drifted',
        drift_checked_at: new Date().toISOString(),
        drift_job_id: stack.job.id,
        drift_resources: JSON.stringify([{ address: `terraform_data.stack["${XSS}"]`, action: 'update' }]),
      });
      await system.redis.hset(`${prefix}:job:${stack.job.id}`, 'created_by', XSS);
      await system.store.channels.publishJobEvent({ stackId: typed, jobId: stack.job.id, status: stack.job.status });
      await admin.locator('#drift-resources code', { hasText: XSS }).waitFor();
      await admin.locator('#job-history td', { hasText: XSS }).waitFor();
      assert.equal(
        await admin.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded),
        true,
        'swapped in live',
      );
      assert.equal(await admin.locator('main img').count(), 0);
      await admin.reload();
      await admin.locator('#drift-resources code', { hasText: XSS }).waitFor();
      assert.equal(await admin.locator('main img').count(), 0);
      await accessible(admin);
    } finally {
      await system.redis.hdel(`${prefix}:res:${typed}`, ...drift);
      const restore = Object.fromEntries(
        drift.flatMap((field, i) => (kept[i] === null || kept[i] === undefined ? [] : [[field, kept[i]]])),
      );
      if (Object.keys(restore).length > 0) await system.redis.hset(`${prefix}:res:${typed}`, restore);
      if (keptBy === null) await system.redis.hdel(`${prefix}:job:${stack.job.id}`, 'created_by');
      else await system.redis.hset(`${prefix}:job:${stack.job.id}`, 'created_by', keptBy);
    }
  });

  test('the live stream carries only the stacks the session may read, refuses a stack it may not, and ends when the session does', async () => {
    const { context, page } = await newPage();
    await signIn(page, OUTSIDER);
    const outsider = await liveStream(await sessionOf(page));
    const own = await liveStream(await sessionOf(admin));
    assert.equal(
      (await liveStream(await sessionOf(page), `?stack=${ec2}`)).status,
      404,
      "another project's stack is unknown",
    );
    assert.equal(outsider.status, 200);
    await system.store.channels.publishJobEvent({ stackId: ec2, jobId: 'j000000000000000', status: 'queued' });
    await own.until(new RegExp(`event: stacks\ndata: ${ec2}\n`));
    own.close();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await system.store.channels.publishJobEvent({ stackId: ec2, jobId: 'j000000000000000', status: 'queued' });
    await outsider.until(/event: end\n/);
    assert.doesNotMatch(outsider.text(), new RegExp(ec2), 'nothing of a stack it may not read');
    await context.close();
  });

  test('a read-only token sees no Create, Change, Approve or Delete, and its forged POST is refused', async () => {
    const { context, page } = await newPage();
    await signIn(page, TOKENS.reader);
    await page.goto('/ui/templates');
    assert.equal(await page.getByRole('link', { name: /New .* stack/ }).count(), 0);
    await page.goto(`/ui/stacks/${ec2}`);
    for (const name of ['Plan', 'Retry']) assert.equal(await page.getByRole('button', { name }).count(), 0, name);
    for (const name of ['Change', 'Delete']) assert.equal(await page.getByRole('link', { name }).count(), 0, name);
    await accessible(page);
    const form = await page.goto('/ui/templates/ec2instance/new');
    assert.equal(form?.status(), 403);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const forged = await page.request.post(`/ui/stacks/${ec2}/delete`, {
      form: { _csrf: csrf },
      headers: { origin: system.baseUrl },
    });
    assert.equal(forged.status(), 403);
    assert.match(await forged.text(), /needs the write role/);
    assert.equal((await system.store.stacks.get(ec2))?.status, 'ready');
    await context.close();
  });

  test('a cross-site POST, or one without the CSRF token, is refused and changes nothing', async () => {
    const cookies = await admin.context().cookies();
    const session = cookies.find((c) => c.name === 'tfc_session')?.value ?? assert.fail('no session cookie');
    const csrf = await admin.locator('input[name=_csrf]').first().inputValue();
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${system.baseUrl}/ui/stacks/${ec2}/delete`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: `tfc_session=${session}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    assert.equal((await post({ origin: 'http://evil.example' }, '')).status, 403);
    assert.equal(
      (await post({ origin: 'http://evil.example' }, `_csrf=${csrf}`)).status,
      403,
      'even with the token, from another origin',
    );
    assert.equal((await post({ origin: system.baseUrl }, '')).status, 403, 'without the token');
    assert.equal((await post({ origin: system.baseUrl }, '_csrf=0000')).status, 403, 'with a wrong token');
    assert.equal((await system.store.stacks.get(ec2))?.status, 'ready');
  });

  test('delete asks for confirmation naming the stack, then deletes it', async () => {
    await admin.goto(`/ui/stacks/${ec2}`);
    await admin.getByRole('link', { name: 'Delete' }).click();
    await admin.getByRole('heading', { name: `Delete stack ${ec2}?` }).waitFor();
    await accessible(admin);
    await admin.getByRole('button', { name: `Delete stack ${ec2}` }).click();
    await admin.locator('#stack-status-value', { hasText: 'deleted' }).waitFor({ timeout: 60_000 });
  });

  test('a session of a revoked token is refused at once; signing out ends the session in Redis', async () => {
    const made = await system.http().post('/api/projects/default/tokens').send({ name: 'console-user', role: 'read' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const { context, page } = await newPage();
    await signIn(page, made.body.token);
    const stream = await liveStream(await sessionOf(page), `?stack=${typed}`);
    await stream.until(/event: status\n/);
    await page.goto(`/ui/stacks/${typed}`);
    assert.equal((await system.http().delete(`/api/projects/default/tokens/${made.body.id}`)).status, 204);
    // The stream finds the principal again before it sends anything: it ends instead.
    await system.store.channels.publishJobEvent({ stackId: typed, jobId: 'j000000000000000', status: 'queued' });
    await stream.until(/event: end\n/);
    await page.reload();
    assert.match(page.url(), /\/ui\/login$/);
    await context.close();

    const before = await system.redis.keys(`${system.config.redisPrefix}:ui:session:*`);
    const session = (await admin.context().cookies()).find((c) => c.name === 'tfc_session')?.value;
    await admin.getByRole('button', { name: 'Sign out' }).click();
    await admin.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    const replayed = await fetch(`${system.baseUrl}/ui/`, {
      redirect: 'manual',
      headers: { cookie: `tfc_session=${session}` },
    });
    assert.equal(replayed.status, 303);
    assert.equal(replayed.headers.get('location'), '/ui/login');
    const afterKeys = await system.redis.keys(`${system.config.redisPrefix}:ui:session:*`);
    assert.ok(before.length > 0);
    for (const value of await Promise.all(afterKeys.map((key) => system.redis.get(key)))) {
      assert.doesNotMatch(value ?? '', /token|tfc_|admin-token/, 'no session holds a token in plain text');
    }
  });
});
