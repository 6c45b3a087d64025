// Single sign-on: an OIDC identity token (a JWT from CI or an organisation's
// IdP) as a bearer credential. The checks are jose's, as its README lists
// them for a verifier: a signature by a key of the issuer's JWKS (found
// through discovery, re-fetched on an unknown `kid`, at most once per
// cooldown), an allow-list of asymmetric algorithms (so neither `none` nor an
// HMAC signed with a public key gets through), `iss`, `aud`, `exp` and `nbf`.
// OIDC_BINDINGS then turns the claims into project grants.
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { grantsFor, isTrustedUrl, type OidcSettings } from './oidc-settings.ts';
import type { Principal } from './roles.ts';

export type OidcOutcome =
  | { outcome: 'valid'; principal: Principal }
  // Verified, but no binding matches: the caller answers 403 no-grants.
  | { outcome: 'no-grants'; subject: string }
  // Not a token of the issuer for this audience, or no longer one.
  | { outcome: 'invalid'; reason: string };

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const CLOCK_TOLERANCE_SECONDS = 60;
const FETCH_TIMEOUT_MS = 5_000;
// jose's own default: an unknown `kid` re-fetches the JWKS at most this often,
// so a flood of tokens with made-up kids cannot make us flood the issuer.
const DEFAULT_COOLDOWN_MS = 30_000;

// What this verifier reads of the discovery document.
const Discovery = z.looseObject({ issuer: z.string(), jwks_uri: z.string() });

// jose errors that say the issuer's keys could not be had, not that the token
// is bad: they are the issuer's outage, and no reason to tell a client its token is invalid.
const UNAVAILABLE = new Set(['ERR_JOSE_GENERIC', 'ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

type Discovered = { at: number; failed: boolean; keys: Promise<JWTVerifyGetKey> };

// Who verified claims are, through OIDC_BINDINGS: an identity token's here,
// an ID token's in the console's SSO sign-in.
export function principalForClaims(
  claims: Readonly<Record<string, unknown>>,
  bindings: OidcSettings['bindings'],
): Exclude<OidcOutcome, { outcome: 'invalid' }> {
  const subject = String(claims.sub);
  const grants = grantsFor(claims, bindings);
  if (grants.size === 0) return { outcome: 'no-grants', subject };
  return { outcome: 'valid', principal: { kind: 'oidc', name: subject, key: `oidc:${subject}`, owner: false, grants } };
}

export class OidcVerifier {
  readonly #settings: OidcSettings;
  readonly #cooldownMs: number;
  #discovered: Discovered | undefined;

  constructor(settings: OidcSettings, options: { cooldownMs?: number } = {}) {
    this.#settings = settings;
    this.#cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
  }

  // Throws AppError backend-unavailable when the issuer's discovery document
  // or keys cannot be fetched.
  async verify(jwt: string): Promise<OidcOutcome> {
    const { issuer, audience, bindings } = this.#settings;
    let claims: Record<string, unknown>;
    try {
      const keys = await this.#keys();
      ({ payload: claims } = await jwtVerify(jwt, keys, {
        algorithms: ALGORITHMS,
        issuer,
        audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof errors.JOSEError && !UNAVAILABLE.has(error.code))
        return { outcome: 'invalid', reason: error.code };
      throw new AppError('backend-unavailable', "the OIDC issuer's keys cannot be fetched now; try again shortly", {
        cause: error,
      });
    }
    return principalForClaims(claims, bindings);
  }

  // The issuer's key set, found through discovery at first use and kept; a
  // failed discovery is tried again once the cooldown has passed.
  #keys(): Promise<JWTVerifyGetKey> {
    const now = Date.now();
    const last = this.#discovered;
    if (last && !(last.failed && now - last.at >= this.#cooldownMs)) return last.keys;
    const attempt: Discovered = { at: now, failed: false, keys: this.#discover() };
    attempt.keys.catch(() => {
      attempt.failed = true;
    });
    this.#discovered = attempt;
    return attempt.keys;
  }

  async #discover(): Promise<JWTVerifyGetKey> {
    const { issuer } = this.#settings;
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, {
      redirect: 'error',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const document = Discovery.parse(await response.json());
    // OpenID Connect Discovery 1.0, section 4.3: a document that names
    // another issuer is not this issuer's.
    if (document.issuer !== issuer) throw new Error(`${url} names the issuer ${document.issuer}, not ${issuer}`);
    if (!isTrustedUrl(document.jwks_uri))
      throw new Error(`${url}: jwks_uri ${document.jwks_uri} is not https:// (nor on loopback)`);
    return createRemoteJWKSet(new URL(document.jwks_uri), {
      cooldownDuration: this.#cooldownMs,
      timeoutDuration: FETCH_TIMEOUT_MS,
    });
  }
}
