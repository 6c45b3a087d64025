// The console's single sign-on in a real browser against a real OpenID
// Provider (panva's oidc-provider, started here on loopback with the
// console registered as its client, and its development login and consent
// pages): the authorization-code flow with PKCE, state and nonce through
// openid-client; the ID token's claims bound to roles by OIDC_BINDINGS.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import type { Page } from 'playwright-core';
import { UiSessions } from '../api/console/index.ts';
import { accessible, ConsoleBrowser } from './support/console-browser.ts';
import { createSystem, startServices, type Services, type TestSystem } from './support/harness.ts';

const CLIENT_ID = 'tfcompute-console';
const CLIENT_SECRET = 'console-client-secret-0123456789abcdef';
// Who signs in is who the provider's login form is told; mallory's e-mail
// matches no binding.
const email = (login: string) => (login === 'mallory' ? 'mallory@elsewhere.example' : `${login}@example.com`);
const BINDINGS = [{ claims: { email: '*@example.com' }, project: 'default', role: 'write' }];

let services: Services;
let system: TestSystem;
let browser: ConsoleBrowser;
let provider: Provider | undefined;
const issuerServer = createServer((req: IncomingMessage, res: ServerResponse) => {
  if (provider) return void provider.callback()(req, res);
  res.writeHead(503).end();
});

before(async () => {
  services = await startServices();
  // The provider's address is the API's OIDC_ISSUER, and the API's the
  // client's redirect URI: the server listens first, the provider comes after.
  await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
  system = await createSystem(services, {
    env: {
      OIDC_ISSUER: issuer,
      OIDC_AUDIENCE: 'tfcompute-api',
      OIDC_BINDINGS: JSON.stringify(BINDINGS),
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
    },
  });
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${system.baseUrl}/ui/login/sso/callback`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        // openid-client's default for a client with a secret.
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'test-key' }] },
    cookies: { keys: ['oidc-provider-cookie-key-for-tests'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // The claims in the ID token itself, which is what the console reads.
    conformIdTokenClaims: false,
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: email(id), email_verified: true }) }),
    features: { devInteractions: { enabled: true } },
  });
  browser = await ConsoleBrowser.launch();
});

after(async () => {
  await browser?.close();
  await system?.stop();
  issuerServer.closeAllConnections();
  await new Promise<void>((resolve) => issuerServer.close(() => resolve()));
  await services?.stop();
  assert.deepEqual(browser?.dialogs, []);
});

// From the console's sign-in page through the provider's login and consent
// pages, as `login`; where the browser lands is the test's to check.
async function signInWithSso(page: Page, login: string): Promise<void> {
  await page.goto('/ui/login');
  await page.getByRole('button', { name: 'Sign in with SSO' }).click();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

describe('single sign-on to the console', () => {
  test('the sign-in page offers SSO beside the token, and passes axe', async () => {
    const { context, page } = await browser.newPage(system.baseUrl);
    const response = await page.goto('/ui/login');
    const csp = response?.headers()['content-security-policy'] ?? '';
    assert.match(
      csp,
      new RegExp(`form-action 'self' ${system.config.api.oidcSetting.issuer}(;|$)`),
      "the button's form may go on to the provider, and nowhere else",
    );
    assert.match(csp, /script-src 'self'(;|$)/);
    await page.getByRole('button', { name: 'Sign in with SSO' }).waitFor();
    await page.getByLabel('Token').waitFor();
    await accessible(page, 'login-sso');
    await context.close();
  });

  test('a user whose claims a binding matches lands on /ui signed in, with the role the binding gives', async () => {
    const { context, page } = await browser.newPage(system.baseUrl);
    await signInWithSso(page, 'alice');
    await page.getByRole('heading', { name: 'Stacks' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/ui/');
    await page.getByText('Signed in as alice').waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Tokens' }).count(), 0, 'write, not admin');
    await page.goto('/ui/templates');
    await page.getByRole('link', { name: 'New ec2instance stack' }).waitFor();
    assert.equal((await page.goto('/ui/tokens'))?.status(), 403);
    const cookie = (await context.cookies()).find((c) => c.name === 'tfc_session');
    assert.ok(cookie?.httpOnly, 'a session cookie, HttpOnly; no token in the browser');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in with SSO' }).waitFor();
    await context.close();
  });

  test('an answer whose state does not match the one the sign-in started with is refused, and signs no one in', async () => {
    const { context, page } = await browser.newPage(system.baseUrl);
    // The state is changed on its way to the provider, which sends it back:
    // the answer the console gets is a real one, with another state.
    // (The answer itself arrives by a redirect, which a route cannot hold.)
    await page.route(
      (url) => url.pathname === '/ui/login/sso',
      async (route) => {
        const response = await route.fetch({ maxRedirects: 0 });
        const location = new URL(response.headers().location ?? assert.fail('no redirect to the provider'));
        location.searchParams.set('state', 'tampered-state');
        await route.fulfill({ response, headers: { ...response.headers(), location: location.href } });
      },
    );
    await signInWithSso(page, 'alice');
    const refused = page.getByRole('alert').filter({ hasText: "the identity provider's answer was refused" });
    await refused.waitFor();
    assert.match(await refused.innerText(), /state/, 'it says what was wrong');
    await page.getByRole('button', { name: 'Sign in with SSO' }).waitFor();
    assert.equal(
      (await page.request.get(page.url(), { maxRedirects: 0 })).status(),
      401,
      'the answer cannot be replayed either',
    );
    await page.goto('/ui/');
    assert.equal(new URL(page.url()).pathname, '/ui/login', 'not signed in');
    await context.close();
  });

  test('an SSO session ends UI_SESSION_TTL after its sign-in, however busy it was', async () => {
    const { context, page } = await browser.newPage(system.baseUrl);
    await signInWithSso(page, 'alice');
    await page.getByText('Signed in as alice').waitFor();
    const id =
      (await context.cookies()).find((c) => c.name === 'tfc_session')?.value ?? assert.fail('no session cookie');
    const sessions = new UiSessions(system.redis, system.config.redisPrefix, system.config.api.console.sessionTtlMs);
    const session = (await sessions.read(id)) ?? assert.fail('no session in Redis');
    assert.equal(session.credential?.kind, 'sso');
    const until = session.credential?.kind === 'sso' ? (session.credential.until ?? 0) : 0;
    assert.ok(
      Math.abs(until - (Date.now() + system.config.api.console.sessionTtlMs)) < 60_000,
      'UI_SESSION_TTL from the sign-in',
    );
    // As it stands once that time has come: still used a moment ago, so not idle.
    if (session.credential?.kind === 'sso') session.credential.until = Date.now() - 1;
    await sessions.save(session);
    await page.goto('/ui/');
    assert.equal(new URL(page.url()).pathname, '/ui/login', 'signed out');
    await context.close();
  });

  test('a user whose claims match no binding is refused with a page that says so', async () => {
    const { context, page } = await browser.newPage(system.baseUrl);
    await signInWithSso(page, 'mallory');
    await page.getByText('"mallory" is signed in, and no OIDC binding grants it a role in any project.').waitFor();
    await accessible(page);
    await page.goto('/ui/');
    assert.equal(new URL(page.url()).pathname, '/ui/login', 'not signed in');
    await context.close();
  });
});
