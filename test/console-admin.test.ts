// The console's admin pages in a real browser against the real API and a
// worker delivering to a real receiver on loopback: tokens made (their
// secret shown once) and revoked, a delivery sent again, the audit log that
// records both, and what a principal below admin sees and is refused. axe
// on every admin page; no dialog ever fires.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { accessible, ConsoleBrowser, signIn, XSS } from './support/console-browser.ts';
import { createSystem, startServices, type Services, type TestSystem, TOKENS } from './support/harness.ts';
import { EVENTS_ENV, Receiver } from './support/receiver.ts';

// An owner makes the second project; the admin token is an admin of every project.
const OWNER = 'owner-token-0123456789abcdefghij';
let services: Services;
let system: TestSystem;
let browser: ConsoleBrowser;
let receiver: Receiver;

before(async () => {
  services = await startServices();
  system = await createSystem(services, {
    env: { ...EVENTS_ENV, API_TOKENS: `admin:read+write:${TOKENS.admin},owner:owner:${OWNER}` },
  });
  await system.startWorker();
  receiver = await new Receiver().start();
  browser = await ConsoleBrowser.launch();
});

after(async () => {
  await browser?.close();
  await receiver?.stop();
  await system?.stop();
  await services?.stop();
  assert.deepEqual(browser?.dialogs, [], 'no script a user typed ever ran');
});

// Reloads until `text` is on the page: a delivery's record changes after
// the receiver answers, and the page does not poll.
async function reloadUntil(page: Page, text: string): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    if ((await page.getByText(text, { exact: false }).count()) > 0) return;
    await page.reload();
  }
  assert.fail(`${page.url()} never showed ${text}`);
}

describe('the console for admins', () => {
  let admin: Page;
  let secret: string;
  let tokenId: string;
  let webhookId: string;

  test('an admin sees the admin pages in the nav; a bad token name is shown at its field, kept and inert', async () => {
    ({ page: admin } = await browser.newPage(system.baseUrl));
    await signIn(admin, TOKENS.admin);
    const nav = admin.getByRole('navigation', { name: 'Main' });
    for (const name of ['Tokens', 'Webhooks', 'Audit log']) await nav.getByRole('link', { name }).waitFor();
    await nav.getByRole('link', { name: 'Tokens' }).click();
    await admin.getByRole('heading', { name: 'Tokens', exact: true }).waitFor();
    await accessible(admin);
    await admin.getByLabel('Name').fill(XSS);
    await admin.getByRole('button', { name: 'Create token' }).click();
    await admin.getByText('There is a problem').waitFor();
    assert.match(await admin.locator('#token-name-error').innerText(), /letters, digits/);
    assert.equal(await admin.getByLabel('Name').inputValue(), XSS, 'what was typed is kept');
    assert.equal(await admin.locator('main img').count(), 0);
    await accessible(admin);
  });

  test('a token is made and its secret shown once: not on the next page, nor when the answer is reloaded', async () => {
    await admin.getByLabel('Name').fill('ci-deploy');
    await admin.getByLabel('Role').selectOption('write');
    await admin.getByLabel('Expires in').fill('30d');
    const [answer] = await Promise.all([
      admin.waitForResponse((r) => r.request().method() === 'POST'),
      admin.getByRole('button', { name: 'Create token' }).click(),
    ]);
    assert.equal(answer.headers()['cache-control'], 'no-store', 'the page with the secret is not kept');
    await admin.getByRole('heading', { name: 'Token ci-deploy made' }).waitFor();
    secret = await admin.locator('#token-secret').innerText();
    assert.match(secret, /^tfc_[A-Za-z0-9_-]{43}$/);
    await accessible(admin);
    assert.equal((await system.http(secret).get('/api/templates')).status, 200, 'the secret works on the API');

    await admin.reload();
    assert.doesNotMatch(
      await admin.content(),
      new RegExp(secret),
      'a reload asks again, and is told the name is taken',
    );
    await admin.locator('#token-name-error', { hasText: 'already has a token named "ci-deploy"' }).waitFor();
    await admin.goto('/ui/tokens');
    const row = admin.getByRole('row', { name: /ci-deploy/ });
    assert.match(await row.innerText(), /write/);
    tokenId = /t[0-9a-z]{15}/.exec(await row.innerText())?.[0] ?? assert.fail('no token id in the row');
    assert.doesNotMatch(await admin.content(), new RegExp(secret));
    await accessible(admin, 'tokens');
  });

  test('a forged POST (another origin, or no CSRF token) revokes nothing', async () => {
    const session =
      (await admin.context().cookies()).find((c) => c.name === 'tfc_session')?.value ??
      assert.fail('no session cookie');
    const csrf = await admin.locator('input[name=_csrf]').first().inputValue();
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${system.baseUrl}/ui/projects/default/tokens/${tokenId}/revoke`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: `tfc_session=${session}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    assert.equal((await post({ origin: system.baseUrl }, '')).status, 403, 'without the token');
    assert.equal((await post({ origin: 'http://evil.example' }, `_csrf=${csrf}`)).status, 403, 'from another origin');
    assert.equal((await system.http(secret).get('/api/templates')).status, 200, 'the token still works');
  });

  test('Revoke ends the token at once: the API answers 401 to it', async () => {
    await admin.getByRole('button', { name: 'Revoke token ci-deploy' }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `Token ${tokenId} is revoked` })
      .waitFor();
    assert.equal(await admin.getByRole('row', { name: /ci-deploy/ }).count(), 0);
    assert.equal((await system.http(secret).get('/api/templates')).status, 401);
  });

  test("a webhook's deliveries are listed with their status, attempts and answer; Redeliver sends the event again", async () => {
    const made = await system
      .http()
      .post('/api/webhooks?project=default')
      .send({ url: receiver.url, description: XSS, event_types: [] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    webhookId = made.body.id;
    const ping = await system.http().post(`/api/webhooks/${webhookId}/ping`);
    assert.equal(ping.status, 202, JSON.stringify(ping.body));
    await receiver.waitFor((requests) => requests.length >= 1, 'the ping');

    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await admin.getByRole('heading', { name: XSS }).waitFor();
    await reloadUntil(admin, 'succeeded');
    const row = admin.getByRole('row', {
      name: new RegExp(`io\\.tfcompute\\.webhook\\.ping.*Redeliver delivery ${ping.body.id}`),
    });
    assert.match(await row.innerText(), /succeeded\s+1\s+204/);
    assert.equal(await admin.locator('main img').count(), 0, 'the description is text');
    await accessible(admin, 'webhooks');

    await row.getByRole('button', { name: /Redeliver/ }).click();
    await admin.getByRole('status').filter({ hasText: 'is queued' }).waitFor();
    const requests = await receiver.waitFor((all) => all.length >= 2, 'the delivery again');
    assert.equal(requests[1]?.event.id, requests[0]?.event.id, 'the same event');
    await reloadUntil(admin, `(again, of ${ping.body.id})`);
    await accessible(admin);
  });

  test('the audit log lists those changes with actor, target, outcome and request id; filters and pages', async () => {
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await admin.getByRole('heading', { name: 'Audit log' }).waitFor();
    const table = admin.locator('main table');
    for (const action of ['token.create', 'token.revoke', 'webhook.create', 'webhook.ping', 'webhook.redeliver']) {
      await table.getByRole('cell', { name: action, exact: true }).first().waitFor();
    }
    const revoked = admin.getByRole('row', { name: /token\.revoke/ });
    assert.match(
      await revoked.innerText(),
      new RegExp(`admin \\(token\\)\\s+token\\.revoke\\s+token ${tokenId}\\s+allowed\\s+default\\s+\\S+`),
    );
    await accessible(admin, 'audit');

    await admin.getByLabel('Action').selectOption('token.create');
    await admin.getByLabel('Actor').fill('admin');
    await admin.getByRole('button', { name: 'Filter' }).click();
    await admin.waitForURL(/action=token\.create/);
    const actions = await table.locator('tbody tr td:nth-child(3)').allInnerTexts();
    assert.deepEqual(actions, ['token.create']);

    for (let i = 0; i < 25; i += 1)
      assert.equal(
        (
          await system
            .http()
            .post('/api/projects/default/tokens')
            .send({ name: `bulk-${i}`, role: 'read' })
        ).status,
        201,
      );
    await admin.goto('/ui/audit?action=token.create');
    assert.equal(await table.locator('tbody tr').count(), 25);
    await admin.getByRole('link', { name: 'Next page' }).click();
    await admin
      .getByRole('row', { name: /token\.create/ })
      .first()
      .waitFor();
    assert.equal(await table.locator('tbody tr').count(), 1, 'the oldest, ci-deploy, on the second page');
  });

  test('a principal with the write role sees no admin link, is refused each admin page naming the admin role, and its forged revoke is refused and recorded', async () => {
    const made = await system.http().post('/api/projects/default/tokens').send({ name: 'developer', role: 'write' });
    const bystander = await system
      .http()
      .post('/api/projects/default/tokens')
      .send({ name: 'bystander', role: 'read' });
    const { context, page } = await browser.newPage(system.baseUrl);
    await signIn(page, made.body.token);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Stacks' }).waitFor();
    for (const name of ['Tokens', 'Webhooks', 'Audit log'])
      assert.equal(await nav.getByRole('link', { name }).count(), 0, name);
    for (const path of ['/ui/tokens', '/ui/webhooks', '/ui/audit', '/ui/tokens?project=default']) {
      const response = await page.goto(path);
      assert.equal(response?.status(), 403, path);
      assert.match(await page.locator('main').innerText(), /admin/, `${path} names the role it needs`);
    }
    await accessible(page);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const forged = await page.request.post(`/ui/projects/default/tokens/${bystander.body.id}/revoke`, {
      form: { _csrf: csrf },
      headers: { origin: system.baseUrl },
    });
    assert.equal(forged.status(), 403);
    assert.match(await forged.text(), /needs the admin role in project &quot;default&quot;/);
    assert.equal((await system.http(bystander.body.token).get('/api/templates')).status, 200, 'nothing was revoked');
    const redeliver = await page.request.post(`/ui/webhooks/${webhookId}/deliveries/d000000000000000/redeliver`, {
      form: { _csrf: csrf },
      headers: { origin: system.baseUrl },
    });
    assert.equal(redeliver.status(), 403, 'a webhook of its project, below admin');
    const denied = await system.http().get('/api/audit?action=token.revoke&actor=developer');
    assert.deepEqual(
      denied.body.items.map((e: { outcome: string; target: { id: string } }) => [e.outcome, e.target.id]),
      [['denied', bystander.body.id]],
    );
    await context.close();
  });

  test("an admin of one project sees that project's tokens, webhooks and audit log; another project's are the 404 of one that does not exist", async () => {
    const owner = system.http(OWNER);
    assert.equal((await owner.post('/api/projects').send({ name: 'payments' })).status, 201);
    const theirs = await owner
      .post('/api/webhooks?project=payments')
      .send({ url: receiver.url, description: 'payments hook', event_types: [] });
    assert.equal(theirs.status, 201, JSON.stringify(theirs.body));
    const ping = await owner.post(`/api/webhooks/${theirs.body.id}/ping`);
    const lead = await system.http().post('/api/projects/default/tokens').send({ name: 'lead', role: 'admin' });
    const { context, page } = await browser.newPage(system.baseUrl);
    await signIn(page, lead.body.token);
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Tokens', 'Webhooks', 'Audit log']) await nav.getByRole('link', { name }).waitFor();

    await page.goto('/ui/tokens');
    await page.getByRole('table', { name: 'Live tokens of project default, oldest first' }).waitFor();
    assert.equal(await page.getByLabel('Project', { exact: true }).count(), 0, 'one project: nothing to choose');
    await page.goto('/ui/webhooks');
    await page.getByRole('heading', { name: XSS }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'payments hook' }).count(), 0);
    await page.goto('/ui/audit');
    await page.getByRole('table', { name: 'Entries of project default, newest first' }).waitFor();
    assert.doesNotMatch(await page.locator('main table').innerText(), new RegExp(theirs.body.id));
    await accessible(page);

    for (const path of ['/ui/tokens?project=payments', '/ui/audit?project=payments', '/ui/webhooks?project=payments']) {
      const response = await page.goto(path);
      assert.equal(response?.status(), 404, path);
      await page.getByText('there is no project "payments"').waitFor();
    }
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const forged = await page.request.post(`/ui/webhooks/${theirs.body.id}/deliveries/${ping.body.id}/redeliver`, {
      form: { _csrf: csrf },
      headers: { origin: system.baseUrl },
    });
    assert.equal(forged.status(), 404, "another project's webhook is not there");
    await context.close();
  });
});
