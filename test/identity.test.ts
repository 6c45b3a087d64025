// Who a credential is: API_TOKENS entries, tokens made through the API (real
// Redis, two connections standing for two API processes), OIDC identity
// tokens from a real issuer on loopback (discovery and JWKS over HTTP, keys
// made by jose), the authenticator that tries them in turn, and the bearer
// header's size.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import express from 'express';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { exportSPKI, SignJWT } from 'jose';
import { AUDIENCE, Issuer } from './support/oidc-issuer.ts';
import request from 'supertest';
import { bearerToken } from '../api/auth.ts';
import { createAuthenticator } from '../core/access/authenticator.ts';
import { createToken, mayGrant, revokeToken } from '../core/access/managed-tokens.ts';
import { OidcVerifier } from '../core/access/oidc.ts';
import { globMatches, type OidcSettings, parseBindings } from '../core/access/oidc-settings.ts';
import type { Principal } from '../core/access/roles.ts';
import { findStaticToken, parseStaticTokens } from '../core/access/static-tokens.ts';
import { apiAccess } from '../core/access/api-access.ts';
import { ConfigError, loadConfig } from '../core/config.ts';
import type { AppError } from '../core/errors.ts';
import { TokenCreateRequest } from '../core/schemas/index.ts';
import { Store } from '../core/store/index.ts';
import { Keys } from '../core/store/keys.ts';
import { Scripts } from '../core/store/scripts.ts';
import { ApiTokens, LAST_USE_RESOLUTION_MS } from '../core/store/tokens.ts';
import { uniquePrefix, useRedis } from './support/use-redis.ts';

const SECRET = 'plain-secret-0123456789abcdefghij';
const OTHER_SECRET = 'other-secret-0123456789abcdefghij';

function principal(powers: Partial<Principal>): Principal {
  return { kind: 'token', name: 'someone', key: 'someone', owner: false, grants: new Map(), ...powers };
}

describe('API_TOKENS', () => {
  test('legacy read is read on every project, write and read+write admin on every project (not owner); owner and ROLE@PROJECT grants', () => {
    const digest = `sha256:${createHash('sha256').update('root-secret-0123456789abcdefghij').digest('hex')}`;
    const tokens = parseStaticTokens(
      [
        `dash:read:${SECRET}`,
        `ci:read+write:${OTHER_SECRET}1`,
        `old:write:${OTHER_SECRET}2`,
        `root:owner:${digest}`,
        `team:write@payments+read@web:${OTHER_SECRET}3`,
        `one:plan@new-project:${OTHER_SECRET}4`,
      ].join(',\n'),
    );
    const byName = new Map(tokens.map((t) => [t.principal.name, t.principal]));
    assert.deepEqual(byName.get('dash'), {
      kind: 'token',
      name: 'dash',
      key: 'dash',
      owner: false,
      everyProject: 'read',
      grants: new Map(),
    });
    for (const name of ['ci', 'old'])
      assert.deepEqual(byName.get(name), {
        kind: 'token',
        name,
        key: name,
        owner: false,
        everyProject: 'admin',
        grants: new Map(),
      });
    assert.deepEqual(byName.get('root'), { kind: 'token', name: 'root', key: 'root', owner: true, grants: new Map() });
    assert.deepEqual(
      byName.get('team')?.grants,
      new Map([
        ['payments', 'write'],
        ['web', 'read'],
      ]),
    );
    assert.equal(byName.get('team')?.everyProject, undefined);
    // A project that does not exist yet is granted all the same.
    assert.deepEqual(byName.get('one')?.grants, new Map([['new-project', 'plan']]));
  });

  test('a presented token finds its own entry, plain or by digest, and a wrong one finds none', () => {
    const tokens = parseStaticTokens(
      `a:read:${SECRET},b:owner:sha256:${createHash('sha256').update(OTHER_SECRET).digest('hex')}`,
    );
    assert.equal(findStaticToken(tokens, SECRET)?.name, 'a');
    assert.equal(findStaticToken(tokens, OTHER_SECRET)?.name, 'b');
    assert.equal(findStaticToken(tokens, `${SECRET}x`), undefined);
    assert.equal(
      findStaticToken(tokens, `sha256:${createHash('sha256').update(OTHER_SECRET).digest('hex')}`),
      undefined,
    );
  });

  test('a malformed entry is refused with a message naming it (by name, or by position when the name is wrong), never quoting a secret', () => {
    const cases: Array<[string, RegExp]> = [
      [`ci:admin:${SECRET}`, /^token "ci": the roles must be read, write, read\+write, owner, or ROLE@PROJECT/],
      [`ci:boss@payments:${SECRET}`, /^token "ci": the role before "@" must be one of read, plan, write, admin$/],
      [`ci:read@a+write@Payments:${SECRET}`, /^token "ci": role 2 of 2: the project after "@" must be 1-63 lowercase/],
      [`ci:read@a+write@a:${SECRET}`, /^token "ci": role 2 of 2: names a project twice$/],
      [`ci:read@:${SECRET}`, /^token "ci": the project after "@"/],
      ['ci:read:short', /^token "ci": the secret must be at least 24 characters$/],
      ['ci:read:sha256:abc', /^token "ci": a sha256: entry needs 64 lowercase hex digits$/],
      [`ci:read:${SECRET},ci:read:${OTHER_SECRET}`, /^token name "ci" is used twice$/],
      // A secret pasted alone, or in the roles' place, is not repeated.
      [`dash:read:${OTHER_SECRET},${SECRET}`, /^entry 2: must be name:ROLES:secret, three fields separated by ":"$/],
      [`ci:${SECRET}`, /^entry 1: must be name:ROLES:secret/],
      [`${SECRET}:read`, /^entry 1: must be name:ROLES:secret/],
      [`ci/x:read:${SECRET}`, /^entry 1: the token name \(before the first ":"\) must be/],
    ];
    for (const [setting, message] of cases) {
      assert.throws(
        () => parseStaticTokens(setting),
        (error: Error) => {
          assert.match(error.message, message, setting);
          assert.ok(
            !error.message.includes(SECRET) && !error.message.includes('short'),
            `${error.message} quotes a secret`,
          );
          return true;
        },
      );
    }
  });

  test('the API does not start on a malformed entry, nor without tokens or OIDC; workers never ask', () => {
    assert.throws(
      () => apiAccess(loadConfig({ API_TOKENS: `ci:admin:${SECRET}` })),
      (error: Error) => error instanceof ConfigError && /\n {2}API_TOKENS: token "ci": the roles/.test(error.message),
    );
    assert.throws(() => apiAccess(loadConfig({})), /API_TOKENS: no tokens; set API_TOKENS or OIDC_ISSUER/);
    assert.equal(apiAccess(loadConfig({ AUTH_MODE: 'insecure-local', HOST: '127.0.0.1' })), undefined);
    assert.throws(
      () => apiAccess(loadConfig({ AUTH_MODE: 'insecure-local' })),
      /insecure-local needs HOST to be a loopback address/,
    );
    const access = apiAccess(loadConfig({ API_TOKENS: `ci:write@payments:${SECRET}` }));
    assert.deepEqual(access?.staticTokens[0]?.principal.grants, new Map([['payments', 'write']]));
    assert.equal(access?.oidc, undefined);
  });
});

const connection = useRedis('identity');
let redis: Redis;
let prefix: string;

beforeEach(() => {
  redis = connection().redis;
  prefix = uniquePrefix('id');
});

// Tokens on the shared connection, with a clock the test moves.
function tokensAt(clock: { now: number }): ApiTokens {
  return new ApiTokens(
    { keys: new Keys(prefix), scripts: new Scripts(redis, prefix), audit: { retentionMs: 86_400_000, now: Date.now } },
    () => clock.now,
  );
}

// Every key under the prefix, and every value in it, as text.
async function everything(): Promise<string[]> {
  const found: string[] = [];
  for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 100 }) as AsyncIterable<string[]>) {
    for (const key of keys) {
      found.push(key);
      const type = await redis.type(key);
      if (type === 'string') found.push((await redis.get(key)) ?? '');
      else if (type === 'hash') found.push(...Object.entries(await redis.hgetall(key)).flat());
      else assert.fail(`unexpected ${type} at ${key}`);
    }
  }
  return found;
}

describe('tokens made through the API', () => {
  test('a made token verifies, and its secret is in no Redis key or value, only its digest', async () => {
    const tokens = tokensAt({ now: Date.now() });
    const made = await tokens.create('payments', { name: 'ci', role: 'write', createdBy: 'alice' });
    assert.equal(made.outcome, 'created');
    if (made.outcome !== 'created') return;
    assert.match(made.token, /^tfc_[A-Za-z0-9_-]{43}$/);
    assert.match(made.record.id, /^t[0-9a-z]{15}$/);
    assert.deepEqual(
      { ...made.record, createdAt: undefined },
      {
        id: made.record.id,
        project: 'payments',
        name: 'ci',
        role: 'write',
        createdBy: 'alice',
        createdAt: undefined,
        expiresAt: null,
        lastUsedAt: null,
      },
    );
    // A verify is one command on its connection (once the script is loaded).
    const counted = new Redis(connection().url);
    after(() => counted.disconnect());
    const onConnection = new Store(counted, prefix, 3600).tokens;
    assert.equal(await onConnection.verify(`${made.token}x`), undefined);
    let sent = 0;
    const send = counted.sendCommand.bind(counted);
    counted.sendCommand = (command, stream) => {
      sent += 1;
      return send(command, stream);
    };
    const verified = await onConnection.verify(made.token);
    assert.equal(sent, 1);
    assert.equal(verified?.id, made.record.id);
    assert.equal(verified?.role, 'write');
    const stored = await everything();
    assert.ok(stored.length > 0);
    const body = made.token.slice('tfc_'.length);
    for (const text of stored) assert.ok(!text.includes(body), `the secret is stored: ${text}`);
    const digest = createHash('sha256').update(made.token).digest('hex');
    assert.ok(stored.includes(`${prefix}:tok:digest:${digest}`));
  });

  test('a token revoked through one API process is refused at once by another', async () => {
    const clock = { now: Date.now() };
    const first = tokensAt(clock);
    const otherConnection = new Redis(connection().url);
    after(() => otherConnection.disconnect());
    const second = new Store(otherConnection, prefix, 3600).tokens;
    const made = await first.create('payments', { name: 'ci', role: 'admin', createdBy: 'alice' });
    assert.ok(made.outcome === 'created');
    assert.equal((await second.verify(made.token))?.name, 'ci');
    // Another project's token id is not found there.
    assert.equal(await first.revoke('web', made.record.id), false);
    assert.equal((await second.verify(made.token))?.name, 'ci');
    assert.equal(await first.revoke('payments', made.record.id), true);
    assert.equal(await second.verify(made.token), undefined);
    assert.equal(await first.revoke('payments', made.record.id), false);
    assert.deepEqual(await everything(), []);
  });

  test('an expired token is refused before Redis drops it, and Redis drops it when it expires', async () => {
    const clock = { now: Date.now() };
    const tokens = tokensAt(clock);
    const made = await tokens.create('payments', {
      name: 'short',
      role: 'read',
      createdBy: 'alice',
      expiresInMs: 1000,
    });
    assert.ok(made.outcome === 'created');
    assert.equal(made.record.expiresAt, new Date(clock.now + 1000).toISOString());
    assert.equal((await tokens.verify(made.token))?.name, 'short');
    for (const key of [
      `${prefix}:tok:${made.record.id}`,
      `${prefix}:tok:digest:${createHash('sha256').update(made.token).digest('hex')}`,
    ]) {
      assert.equal(await redis.pexpiretime(key), clock.now + 1000, key);
    }
    clock.now += 1000;
    assert.equal(await tokens.verify(made.token), undefined);
  });

  test("a name is unique among a project's live tokens; free in another project, and again once its token is revoked or expired", async () => {
    const clock = { now: Date.now() };
    const tokens = tokensAt(clock);
    const first = await tokens.create('payments', {
      name: 'ci',
      role: 'read',
      createdBy: 'alice',
      expiresInMs: 60_000,
    });
    assert.ok(first.outcome === 'created');
    const racing = await Promise.all(
      [1, 2, 3].map(() => tokens.create('payments', { name: 'ci', role: 'read', createdBy: 'bob' })),
    );
    assert.deepEqual(
      racing.map((r) => r.outcome),
      ['name-taken', 'name-taken', 'name-taken'],
    );
    assert.equal((await tokens.create('web', { name: 'ci', role: 'read', createdBy: 'bob' })).outcome, 'created');
    assert.ok(await tokens.revoke('payments', first.record.id));
    // Made a minute ago for a second: Redis has dropped its keys (PEXPIREAT), and the name is free.
    clock.now -= 60_000;
    const second = await tokens.create('payments', { name: 'ci', role: 'read', createdBy: 'bob', expiresInMs: 1000 });
    assert.ok(second.outcome === 'created');
    assert.equal(await redis.exists(`${prefix}:tok:${second.record.id}`), 0);
    clock.now += 60_000;
    assert.equal(
      (await tokens.create('payments', { name: 'ci', role: 'read', createdBy: 'carol' })).outcome,
      'created',
    );
    assert.deepEqual(
      (await tokens.list('payments')).map((t) => t.createdBy),
      ['carol'],
    );
  });

  test("a token's last use is recorded, at most once a minute; a list shows live tokens, oldest first, without secrets", async () => {
    const clock = { now: Date.now() };
    const tokens = tokensAt(clock);
    const made = await tokens.create('payments', { name: 'ci', role: 'plan', createdBy: 'alice' });
    assert.ok(made.outcome === 'created');
    clock.now += 1000;
    await tokens.create('payments', { name: 'deploy', role: 'write', createdBy: 'alice', expiresInMs: 86_400_000 });
    await tokens.create('web', { name: 'other', role: 'write', createdBy: 'alice' });
    assert.deepEqual(
      (await tokens.list('payments')).map((t) => [t.name, t.lastUsedAt]),
      [
        ['ci', null],
        ['deploy', null],
      ],
    );
    clock.now += 5000;
    const used = clock.now;
    assert.equal((await tokens.verify(made.token))?.lastUsedAt, new Date(used).toISOString());
    clock.now += LAST_USE_RESOLUTION_MS - 1;
    assert.equal((await tokens.verify(made.token))?.lastUsedAt, new Date(used).toISOString());
    clock.now += 1;
    assert.equal((await tokens.verify(made.token))?.lastUsedAt, new Date(clock.now).toISOString());
    const listed = await tokens.list('payments');
    assert.equal(listed[0]?.lastUsedAt, new Date(clock.now).toISOString());
    assert.ok(!JSON.stringify(listed).includes(made.token.slice(4)));
    assert.equal(await tokens.revokeAll('payments'), 2);
    assert.deepEqual(await tokens.list('payments'), []);
    assert.equal(await tokens.verify(made.token), undefined);
    assert.equal((await tokens.list('web')).length, 1);
  });

  test("only a project's admins and owners make its tokens; a name taken is a conflict; a token not the project's is not found", async () => {
    const tokens = tokensAt({ now: Date.now() });
    assert.equal(mayGrant(principal({ owner: true }), 'payments', 'admin'), true);
    assert.equal(mayGrant(principal({ grants: new Map([['payments', 'admin']]) }), 'payments', 'admin'), true);
    assert.equal(mayGrant(principal({ everyProject: 'admin' }), 'payments', 'write'), true);
    assert.equal(mayGrant(principal({ grants: new Map([['payments', 'write']]) }), 'payments', 'read'), false);
    assert.equal(mayGrant(principal({ grants: new Map([['web', 'admin']]) }), 'payments', 'read'), false);
    const admin = principal({ name: 'alice', grants: new Map([['payments', 'admin']]) });
    const body = TokenCreateRequest.parse({ name: 'ci', role: 'write', expires_in: '1s' });
    assert.equal(body.expires_in, 1);
    const made = await createToken(tokens, admin, 'payments', body);
    assert.equal(made.created_by, 'alice');
    assert.equal(Date.parse(made.expires_at ?? '') - Date.parse(made.created_at), 1000);
    await assert.rejects(
      createToken(tokens, admin, 'payments', body),
      (e: AppError) => e.code === 'token-name-taken' && e.status === 409,
    );
    await assert.rejects(
      createToken(tokens, principal({ grants: new Map([['payments', 'write']]) }), 'payments', body),
      (e: AppError) => e.code === 'insufficient-role' && e.status === 403,
    );
    await assert.rejects(
      revokeToken(tokens, 'web', made.id),
      (e: AppError) => e.code === 'token-not-found' && e.status === 404,
    );
    await revokeToken(tokens, 'payments', made.id);
    for (const bad of [
      { name: 'ci', role: 'owner' },
      { name: 'ci', role: 'read', expires_in: '0s' },
      { name: 'ci', role: 'read', expires_in: '91d' },
      { name: 'a b', role: 'read' },
    ]) {
      assert.equal(TokenCreateRequest.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});

describe('the authenticator', () => {
  const SCRIPT_MADE = `tfc_${'s'.repeat(43)}`;

  test('tries API_TOKENS, then a made token (one round trip, only for a tfc_ credential); a JWT without OIDC is invalid at once', async () => {
    const tokens = tokensAt({ now: Date.now() });
    const made = await tokens.create('payments', { name: 'ci', role: 'write', createdBy: 'alice' });
    assert.ok(made.outcome === 'created');
    let lookups = 0;
    const authenticator = createAuthenticator({
      staticTokens: parseStaticTokens(
        `dash:read:${SECRET},script:owner:sha256:${createHash('sha256').update(SCRIPT_MADE).digest('hex')}`,
      ),
      managedTokens: {
        verify: (presented) => {
          lookups += 1;
          return tokens.verify(presented);
        },
      },
    });
    assert.deepEqual(await authenticator.authenticate(SECRET), {
      principal: { kind: 'token', name: 'dash', key: 'dash', owner: false, everyProject: 'read', grants: new Map() },
    });
    // `npm run token` makes tfc_ tokens for API_TOKENS too: found without Redis.
    const scriptMade = await authenticator.authenticate(SCRIPT_MADE);
    assert.ok('principal' in scriptMade && scriptMade.principal.owner);
    assert.deepEqual(await authenticator.authenticate(made.token), {
      principal: {
        kind: 'token',
        name: 'ci',
        key: 'ci@payments',
        owner: false,
        grants: new Map([['payments', 'write']]),
      },
    });
    assert.equal(lookups, 1);
    for (const wrong of [OTHER_SECRET, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'])
      assert.deepEqual(await authenticator.authenticate(wrong), { error: 'invalid' });
    assert.equal(lookups, 1);
    assert.deepEqual(await authenticator.authenticate(`${made.token}x`), { error: 'invalid' });
    assert.equal(lookups, 2);
  });

  test('a bearer credential of 8 KB is accepted, one byte more is not', async () => {
    const app = express();
    app.get('/', (req, res) => {
      res.json({ length: bearerToken(req)?.length ?? null });
    });
    const long = 'a'.repeat(8192);
    assert.deepEqual((await request(app).get('/').set('Authorization', `Bearer ${long}`)).body, { length: 8192 });
    assert.deepEqual((await request(app).get('/').set('Authorization', `Bearer ${long}a`)).body, { length: null });
  });
});

const BINDINGS = parseBindings(
  JSON.stringify([
    { claims: { repository: 'acme/*', ref: 'refs/heads/main' }, project: 'payments', role: 'write' },
    { claims: { repository: 'acme/app' }, project: 'payments', role: 'plan' },
    { claims: { repository_owner: 'acme' }, project: 'web', role: 'read' },
    { claims: { sub: 'user:*@example.com' }, project: 'people', role: 'admin' },
  ]),
);

// A GitHub Actions identity token's claims, for a repository and ref.
function actions(repository: string, ref: string): Record<string, unknown> {
  const owner = repository.split('/')[0];
  return {
    sub: `repo:${repository}:ref:${ref}`,
    repository,
    repository_owner: owner,
    ref,
    ref_type: 'branch',
    actor: 'octocat',
    event_name: 'push',
    workflow: 'deploy',
    job_workflow_ref: `${repository}/.github/workflows/deploy.yml@${ref}`,
    run_id: '7',
  };
}

describe('OIDC identity tokens', () => {
  const issuer = new Issuer();
  let settings: OidcSettings;
  let verifier: OidcVerifier;

  before(async () => {
    await issuer.start();
    await issuer.addKey('RS256', 'rsa-1');
    await issuer.addKey('ES256', 'ec-1');
    await issuer.addKey('EdDSA', 'ed-1');
    settings = { issuer: issuer.url, audience: AUDIENCE, bindings: BINDINGS };
    verifier = new OidcVerifier(settings);
  });
  after(() => new Promise<void>((resolve) => issuer.server.close(() => resolve())));

  test("a token signed by a key of the issuer (RS256, ES256, EdDSA) is its subject, with every matching binding's grant, the highest per project", async () => {
    for (const kid of ['rsa-1', 'ec-1', 'ed-1']) {
      const outcome = await verifier.verify(await issuer.sign(actions('acme/app', 'refs/heads/main'), { kid }));
      assert.deepEqual(
        outcome,
        {
          outcome: 'valid',
          principal: {
            kind: 'oidc',
            name: 'repo:acme/app:ref:refs/heads/main',
            key: 'oidc:repo:acme/app:ref:refs/heads/main',
            owner: false,
            grants: new Map([
              ['payments', 'write'],
              ['web', 'read'],
            ]),
          },
        },
        kid,
      );
    }
    // Discovery once, the key set once: both kept.
    assert.equal(issuer.jwksRequests, 1);
  });

  test("a GitHub Actions binding on acme/* and main matches acme's repositories on main only, and never evil/acme-x", async () => {
    const grants = async (claims: Record<string, unknown>) => {
      const outcome = await verifier.verify(await issuer.sign(claims));
      return outcome.outcome === 'valid' ? Object.fromEntries(outcome.principal.grants) : outcome.outcome;
    };
    assert.deepEqual(await grants(actions('acme/infra', 'refs/heads/main')), { payments: 'write', web: 'read' });
    assert.deepEqual(await grants(actions('acme/app', 'refs/heads/feature')), { payments: 'plan', web: 'read' });
    assert.equal(await grants(actions('evil/acme-x', 'refs/heads/main')), 'no-grants');
    assert.equal(await grants({ ...actions('evil/acme', 'refs/heads/main'), repository_owner: 'evil' }), 'no-grants');
    // Only string claims match: a list holding the right value does not.
    assert.equal(await grants({ sub: 'x', repository: ['acme/app'], ref: 'refs/heads/main' }), 'no-grants');
    assert.deepEqual(await grants({ sub: 'user:ann@example.com' }), { people: 'admin' });
    assert.equal(await grants({ sub: 'user:ann@example.com.evil.net' }), 'no-grants');
  });

  test('expired (beyond 60 s of skew), not yet valid, without exp, for another audience or from another issuer: invalid', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = actions('acme/app', 'refs/heads/main');
    const reason = async (token: Promise<string>) => {
      const outcome = await verifier.verify(await token);
      return outcome.outcome === 'invalid' ? outcome.reason : outcome.outcome;
    };
    assert.equal(await reason(issuer.sign(claims, { expiresAt: now - 30 })), 'valid');
    assert.equal(await reason(issuer.sign(claims, { expiresAt: now - 90 })), 'ERR_JWT_EXPIRED');
    assert.equal(await reason(issuer.sign(claims, { notBefore: now + 90 })), 'ERR_JWT_CLAIM_VALIDATION_FAILED');
    assert.equal(
      await reason(issuer.sign(claims, { audience: 'https://other.example.com' })),
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
    );
    assert.equal(
      await reason(issuer.sign(claims, { issuer: 'https://token.actions.githubusercontent.com' })),
      'ERR_JWT_CLAIM_VALIDATION_FAILED',
    );
    const key = issuer.keys[0];
    assert.ok(key);
    const noExp = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer(issuer.url)
      .setAudience(AUDIENCE)
      .sign(key.privateKey);
    assert.equal(await reason(noExp), 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  test("an unsigned token (alg none) and an HS256 token keyed with the issuer's public key are refused", async () => {
    const key = issuer.keys[0];
    assert.ok(key);
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      ...actions('acme/app', 'refs/heads/main'),
      iss: issuer.url,
      aud: AUDIENCE,
      iat: now,
      exp: now + 300,
    };
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
    assert.deepEqual(await verifier.verify(unsigned), { outcome: 'invalid', reason: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    // The algorithm confusion attack: the public key's PEM as an HMAC secret.
    for (const secret of [await exportSPKI(key.publicKey), JSON.stringify(key.jwk)]) {
      const forged = await new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256', kid: key.kid })
        .sign(new TextEncoder().encode(secret));
      assert.deepEqual(await verifier.verify(forged), { outcome: 'invalid', reason: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    }
  });

  test('a token signed by a new key (unknown kid) is accepted once the key set is fetched again, and unknown kids refetch at most once per cooldown', async () => {
    const claims = actions('acme/app', 'refs/heads/main');
    const rotating = new OidcVerifier(settings, { cooldownMs: 0 });
    assert.equal((await rotating.verify(await issuer.sign(claims))).outcome, 'valid');
    const before = issuer.jwksRequests;
    await issuer.addKey('RS256', 'rsa-2');
    assert.equal((await rotating.verify(await issuer.sign(claims, { kid: 'rsa-2' }))).outcome, 'valid');
    assert.equal(issuer.jwksRequests, before + 1);
    // With the default cooldown, a flood of made-up kids fetches nothing.
    const guarded = new OidcVerifier(settings);
    assert.equal((await guarded.verify(await issuer.sign(claims))).outcome, 'valid');
    const fetched = issuer.jwksRequests;
    await issuer.addKey('RS256', 'rsa-3');
    for (let i = 0; i < 5; i += 1) {
      assert.deepEqual(await guarded.verify(await issuer.sign(claims, { kid: 'rsa-3' })), {
        outcome: 'invalid',
        reason: 'ERR_JWKS_NO_MATCHING_KEY',
      });
    }
    assert.equal(issuer.jwksRequests, fetched);
  });

  test('an issuer whose discovery names another issuer, or that cannot be reached, is unavailable (503), not a client error', async () => {
    const token = await issuer.sign(actions('acme/app', 'refs/heads/main'));
    const unavailable = (e: AppError) => e.code === 'backend-unavailable' && e.status === 503;
    await assert.rejects(
      new OidcVerifier({ ...settings, issuer: `${issuer.url}/elsewhere` }).verify(token),
      unavailable,
    );
    await assert.rejects(new OidcVerifier({ ...settings, issuer: 'http://127.0.0.1:1' }).verify(token), unavailable);
  });

  test('the authenticator hands a JWT to OIDC: a principal, no-grants with the subject, or invalid', async () => {
    const authenticator = createAuthenticator({
      staticTokens: [],
      managedTokens: { verify: () => assert.fail('a JWT reached Redis') },
      oidc: verifier,
    });
    const valid = await authenticator.authenticate(await issuer.sign(actions('acme/app', 'refs/heads/main')));
    assert.ok('principal' in valid && valid.principal.kind === 'oidc');
    assert.deepEqual(await authenticator.authenticate(await issuer.sign(actions('evil/x', 'refs/heads/main'))), {
      error: 'no-grants',
      subject: 'repo:evil/x:ref:refs/heads/main',
    });
    assert.deepEqual(
      await authenticator.authenticate(await issuer.sign(actions('acme/app', 'refs/heads/main'), { audience: 'x' })),
      { error: 'invalid', reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED' },
    );
  });
});

describe('OIDC settings', () => {
  test('the issuer must be https:// or on loopback; audience and bindings come with it; a bad binding is named by its index', async () => {
    const env = {
      OIDC_ISSUER: 'https://token.actions.githubusercontent.com',
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_BINDINGS: '[{"claims":{"repository":"acme/*"},"project":"payments","role":"write"}]',
    };
    assert.deepEqual(apiAccess(loadConfig(env))?.oidc, {
      issuer: env.OIDC_ISSUER,
      audience: AUDIENCE,
      bindings: [{ claims: { repository: 'acme/*' }, project: 'payments', role: 'write' }],
    });
    for (const issuerUrl of ['http://127.0.0.1:8443', 'http://localhost', 'http://[::1]:9000/realms/x']) {
      assert.equal(apiAccess(loadConfig({ ...env, OIDC_ISSUER: issuerUrl }))?.oidc?.issuer, issuerUrl);
    }
    for (const issuerUrl of [
      'http://idp.example.com',
      'http://10.0.0.1',
      'https://user:pw@idp.example.com',
      'idp.example.com',
    ]) {
      assert.throws(
        () => apiAccess(loadConfig({ ...env, OIDC_ISSUER: issuerUrl })),
        /\n {2}OIDC_ISSUER: must be an https:\/\/ URL/,
        issuerUrl,
      );
    }
    assert.throws(() => apiAccess(loadConfig({ ...env, OIDC_AUDIENCE: '' })), /OIDC_AUDIENCE: needed with OIDC_ISSUER/);
    assert.throws(
      () => apiAccess(loadConfig({ OIDC_ISSUER: env.OIDC_ISSUER, OIDC_AUDIENCE: AUDIENCE })),
      /OIDC_BINDINGS: needed with OIDC_ISSUER/,
    );
    const bad = JSON.stringify([
      { claims: {}, project: 'Payments', role: 'owner' },
      { claims: { repository: 'acme/*' }, project: 'payments', role: 'write' },
      { claims: { a: 'b' }, project: 'web', role: 'read', extra: 1 },
    ]);
    assert.throws(
      () => apiAccess(loadConfig({ ...env, OIDC_BINDINGS: bad })),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /OIDC_BINDINGS: entry 0 \(claims\): name at least one claim/);
        assert.match(error.message, /entry 0 \(project\): a project name/);
        assert.match(error.message, /entry 0 \(role\): /);
        assert.match(error.message, /entry 2: unknown field\(s\): extra/);
        assert.doesNotMatch(error.message, /entry 1/);
        return true;
      },
    );
    assert.throws(() => apiAccess(loadConfig({ ...env, OIDC_BINDINGS: '[{"claims": ' })), /OIDC_BINDINGS: not JSON/);
    assert.throws(
      () => apiAccess(loadConfig({ ...env, OIDC_BINDINGS: '{"claims": {}}' })),
      /OIDC_BINDINGS: the bindings: /,
    );
    const file = path.join(connection().dir, 'bindings.json');
    await writeFile(file, env.OIDC_BINDINGS);
    assert.equal(apiAccess(loadConfig({ ...env, OIDC_BINDINGS: file }))?.oidc?.bindings.length, 1);
    assert.throws(
      () => apiAccess(loadConfig({ ...env, OIDC_BINDINGS: path.join(connection().dir, 'missing.json') })),
      /OIDC_BINDINGS: ENOENT/,
    );
    // OIDC alone is enough to start.
    assert.equal(apiAccess(loadConfig(env))?.staticTokens.length, 0);
  });

  test("the console's SSO client needs both OIDC_CLIENT_ID and OIDC_CLIENT_SECRET, and the OIDC issuer and bindings", () => {
    const env = {
      OIDC_ISSUER: 'https://idp.example.com',
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_BINDINGS: '[{"claims":{"email":"*@example.com"},"project":"default","role":"read"}]',
    };
    const client = { OIDC_CLIENT_ID: 'tfcompute-console', OIDC_CLIENT_SECRET: 'a-client-secret' };
    assert.deepEqual(loadConfig({ ...env, ...client }).api.console.oidcClient, {
      id: 'tfcompute-console',
      secret: 'a-client-secret',
    });
    assert.equal(loadConfig(env).api.console.oidcClient, undefined, 'neither: no SSO');
    assert.throws(
      () => loadConfig({ ...env, OIDC_CLIENT_ID: 'tfcompute-console' }),
      /OIDC_CLIENT_ID, OIDC_CLIENT_SECRET: the console's SSO client needs both/,
    );
    assert.throws(() => loadConfig({ ...env, OIDC_CLIENT_SECRET: 'a-client-secret' }), /needs both, or neither/);
    assert.throws(
      () => apiAccess(loadConfig({ API_TOKENS: 'ci:read:0123456789abcdef0123456789', ...client })),
      /OIDC_CLIENT_ID: the console's SSO signs in through OIDC_ISSUER/,
    );
    assert.equal(loadConfig({}).api.console.sessionTtlMs, 8 * 3_600_000, 'UI_SESSION_TTL is 8h unless set');
  });

  test('a claim pattern matches as a glob: `*` is any run of characters, everything else itself (regex syntax included)', () => {
    assert.equal(globMatches('acme/*', 'acme/'), true);
    assert.equal(globMatches('acme/*', 'acme-x/app'), false);
    assert.equal(globMatches('a.c', 'abc'), false);
    assert.equal(globMatches('(a|b)+', '(a|b)+'), true);
    assert.equal(globMatches('*main*', 'refs/heads/main'), true);
    assert.equal(globMatches('a*b*c', 'acb'), false);
    // Against an oracle: the pattern escaped into a RegExp.
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '.', '(', '\\', '/'), maxLength: 8 });
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '*', '.', '(', '\\', '/'), maxLength: 6 });
    fc.assert(
      fc.property(pattern, text, (p, v) => {
        const oracle = new RegExp(
          `^${p
            .split('*')
            .map((piece) => piece.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
            .join('.*')}$`,
          's',
        );
        return globMatches(p, v) === oracle.test(v);
      }),
      { numRuns: 2000 },
    );
  });
});
