// The console behind a proxy that terminates TLS (PUBLIC_URL), and its
// sign-in form's defences that need no browser: the session cookie is Secure
// when browsers reach the console over https, a change is accepted only from
// the public origin, failed sign-ins spend the address's budget of failed
// authentications as bearer tokens do, and a visitor's session (no one signed
// in) lives minutes, not UI_SESSION_TTL.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { TOKENS, useSystems, type TestSystem } from './support/harness.ts';

const [startSystem] = useSystems();
const PUBLIC_URL = 'https://tfcompute.example.test';

// The sign-in form as a visitor gets it: its session cookie and CSRF token.
async function loginForm(system: TestSystem): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await request(system.baseUrl).get('/ui/login');
  assert.equal(res.status, 200);
  const setCookie =
    ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('tfc_session=')) ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(res.text)?.[1];
  assert.ok(setCookie && csrf, 'a session cookie and a CSRF token');
  return { cookie: setCookie.split(';')[0] as string, csrf, setCookie };
}

function signIn(
  system: TestSystem,
  form: { cookie: string; csrf: string },
  token: string,
  origin: string,
): request.Test {
  return request(system.baseUrl)
    .post('/ui/login')
    .set({ Cookie: form.cookie, Origin: origin })
    .type('form')
    .send({ token, _csrf: form.csrf });
}

describe('the console behind a TLS-terminating proxy', () => {
  test('with PUBLIC_URL on https, its cookies are Secure and a sign-in is accepted from that origin only', async () => {
    const system = await startSystem({ env: { PUBLIC_URL } });
    const form = await loginForm(system);
    assert.match(form.setCookie, /; Secure/i, 'Secure, though the request reached the API over http');
    assert.match(form.setCookie, /HttpOnly/i);
    assert.match(form.setCookie, /SameSite=Lax/i);

    const direct = await signIn(system, form, TOKENS.admin, system.baseUrl);
    assert.equal(direct.status, 403, "the API's own http origin is not where browsers are");
    assert.match(direct.text, /must come from its own pages \(https:\/\/tfcompute\.example\.test\)/);

    const signed = await signIn(system, form, TOKENS.admin, PUBLIC_URL);
    assert.equal(signed.status, 303, signed.text);
    const session = ([] as string[])
      .concat(signed.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('tfc_session='));
    assert.match(session ?? '', /; Secure/i);
    const page = await request(system.baseUrl)
      .get('/ui/')
      .set('Cookie', (session ?? '').split(';')[0] as string);
    assert.equal(page.status, 200);
    assert.match(page.text, /Signed in as/);
  });

  test('without PUBLIC_URL, a console reached over http sets no Secure cookie and takes changes from its own origin', async () => {
    const system = await startSystem();
    const form = await loginForm(system);
    assert.doesNotMatch(form.setCookie, /; Secure/i);
    assert.equal((await signIn(system, form, TOKENS.admin, system.baseUrl)).status, 303);
  });
});

describe("the console's sign-in form", () => {
  test("wrong tokens spend the address's budget of failed authentications: over it, the form and the API answer 429", async () => {
    const system = await startSystem({ env: { RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '2' } });
    const form = await loginForm(system);
    for (let i = 0; i < 2; i++) {
      const wrong = await signIn(system, form, 'not-a-token-at-all-0123456789', system.baseUrl);
      assert.equal(wrong.status, 401);
      assert.match(wrong.text, /That token is not valid/);
    }
    const refused = await signIn(system, form, TOKENS.admin, system.baseUrl);
    assert.equal(refused.status, 429, 'refused before the token is read, a good one too');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.equal(
      (await request(system.baseUrl).get('/api/ec2instance').set('Authorization', `Bearer ${TOKENS.admin}`)).status,
      429,
      'one budget with the API',
    );
  });

  test("a visitor's session lives 15 minutes at most; a signed-in one UI_SESSION_TTL", async () => {
    const system = await startSystem({ env: { UI_SESSION_TTL: '8h' } });
    const form = await loginForm(system);
    const [visitor] = await system.keysMatching(`${system.config.redisPrefix}:ui:session:*`);
    assert.ok(visitor);
    const visitorTtl = await system.redis.pttl(visitor);
    assert.ok(visitorTtl > 0 && visitorTtl <= 15 * 60_000, `visitor: ${visitorTtl} ms`);
    await request(system.baseUrl).get('/ui/login').set('Cookie', form.cookie);
    assert.ok((await system.redis.pttl(visitor)) <= 15 * 60_000, 'using it does not lengthen it past that');

    assert.equal((await signIn(system, form, TOKENS.admin, system.baseUrl)).status, 303);
    const sessions = await system.keysMatching(`${system.config.redisPrefix}:ui:session:*`);
    assert.equal(sessions.length, 1, 'the visitor session was replaced by the signed-in one');
    const signedTtl = await system.redis.pttl(sessions[0] as string);
    assert.ok(signedTtl > 7 * 3_600_000, `signed in: ${signedTtl} ms`);
  });
});
