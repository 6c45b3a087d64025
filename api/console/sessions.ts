// The console's sessions, in Redis: a random id in the browser's cookie, a
// record under the store's key prefix that expires after UI_SESSION_TTL
// unused. The record holds the credential the session acts with, sealed
// with a key derived from the session id: Redis never holds it in plain
// text, and the id (which only the browser has) is needed to open it. The
// record's key is the id's digest, so Redis does not hold the id either.
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { RedisConnection } from '../../core/redis.ts';
import { SecretBox } from '../../core/secret-box.ts';

// What a session acts with: an API token, presented again on every request
// (so a revoked one ends the session at once), or the claims of an ID token
// from SSO, bound to roles through OIDC_BINDINGS on every request. Nothing
// tells the console when the identity provider drops a user, so an SSO
// session also ends at `until` (ms), UI_SESSION_TTL after its sign-in,
// however busy it was: a user removed at the provider is out within that.
export type Credential =
  | { kind: 'token'; token: string }
  | { kind: 'sso'; subject: string; claims: Record<string, unknown>; until?: number | undefined };

// A session before sign-in carries only its CSRF token (the sign-in form is
// protected too) and, during SSO, the flow's one-time values.
export type Session = {
  id: string;
  csrfToken?: string | null | undefined;
  credential?: Credential | undefined;
  sso?: { state: string; nonce: string; verifier: string; redirectUri: string } | undefined;
};

type Stored = { csrf?: string | null | undefined; sealed?: string | undefined; sso?: Session['sso'] };

const SEALED_FOR = 'tfcompute console session';
// A session no one has signed in to (a visitor's, holding only the sign-in
// form's CSRF token) lives this long at most: every request without a cookie
// makes one, and a flood of them must not fill Redis for UI_SESSION_TTL.
const ANONYMOUS_TTL_MS = 15 * 60_000;

export class UiSessions {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #ttlMs: number;

  constructor(redis: RedisConnection, prefix: string, ttlMs: number) {
    this.#redis = redis;
    this.#prefix = `${prefix}:ui:session:`;
    this.#ttlMs = ttlMs;
  }

  // A signed-in session's idle life (UI_SESSION_TTL).
  get ttlMs(): number {
    return this.#ttlMs;
  }

  // A new, empty session; 32 random bytes, out of reach of guessing.
  start(): Session {
    return { id: randomBytes(32).toString('base64url') };
  }

  // The session, its idle expiry moved on (unless `touch` is false: a live
  // page's stream checking that its session still stands is not a use of
  // it); undefined when it expired or never was.
  async read(id: string, touch = true): Promise<Session | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const text = touch
      ? await this.#redis.getex(this.#key(id), 'PX', this.#ttlMs)
      : await this.#redis.get(this.#key(id));
    if (text === null) return undefined;
    const stored = JSON.parse(text) as Stored;
    if (touch && stored.sealed === undefined) await this.#redis.pexpire(this.#key(id), this.#ttlFor(stored));
    const credential =
      stored.sealed === undefined ? undefined : (JSON.parse(boxFor(id).open(stored.sealed, SEALED_FOR)) as Credential);
    return { id, csrfToken: stored.csrf, credential, sso: stored.sso };
  }

  async save(session: Session): Promise<void> {
    const stored: Stored = {
      csrf: session.csrfToken,
      sealed: session.credential && boxFor(session.id).seal(JSON.stringify(session.credential), SEALED_FOR),
      sso: session.sso,
    };
    await this.#redis.set(this.#key(session.id), JSON.stringify(stored), 'PX', this.#ttlFor(stored));
  }

  async end(id: string): Promise<void> {
    await this.#redis.del(this.#key(id));
  }

  #ttlFor(stored: Stored): number {
    return stored.sealed === undefined ? Math.min(this.#ttlMs, ANONYMOUS_TTL_MS) : this.#ttlMs;
  }

  #key(id: string): string {
    return this.#prefix + createHash('sha256').update(id).digest('hex');
  }
}

function boxFor(id: string): SecretBox {
  return new SecretBox(Buffer.from(hkdfSync('sha256', Buffer.from(id, 'base64url'), Buffer.alloc(0), SEALED_FOR, 32)));
}
