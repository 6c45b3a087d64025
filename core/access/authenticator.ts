// Who a bearer credential is: the one entry point that tries each kind of
// credential the API accepts. API_TOKENS entries first (in memory), then an
// OIDC identity token when SSO is set up and the credential has a JWT's
// shape, then a token made through the API (one Redis round trip), which
// only a `tfc_` credential can be. Each kind is found by its exact digest or
// signature, so none can pass for another; the order only decides what a
// credential costs.
import { tokenPrincipal } from './managed-tokens.ts';
import type { OidcVerifier } from './oidc.ts';
import type { Principal } from './roles.ts';
import { findStaticToken, type StaticToken } from './static-tokens.ts';
import { type ApiTokens, MANAGED_TOKEN_PREFIX } from '../store/tokens.ts';

export type Authentication =
  | { principal: Principal }
  // 401, error="invalid_token": not a credential of this API, or no longer one.
  // `reason`: why an identity token was refused (jose's error code), for the log.
  | { error: 'invalid'; reason?: string }
  // 403 no-grants: a verified identity token that no OIDC binding grants anything.
  | { error: 'no-grants'; subject: string };

export type Authenticator = { authenticate(presented: string): Promise<Authentication> };

// Three base64url parts (the last empty for an unsigned token, which the
// verifier then refuses).
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function createAuthenticator(sources: {
  staticTokens: readonly StaticToken[];
  managedTokens: Pick<ApiTokens, 'verify'>;
  // Undefined: OIDC_ISSUER is not set.
  oidc?: OidcVerifier | undefined;
}): Authenticator {
  const { staticTokens, managedTokens, oidc } = sources;
  return {
    async authenticate(presented) {
      const fixed = findStaticToken(staticTokens, presented);
      if (fixed) return { principal: fixed };
      if (oidc && JWT_SHAPE.test(presented)) {
        const verified = await oidc.verify(presented);
        if (verified.outcome === 'valid') return { principal: verified.principal };
        if (verified.outcome === 'no-grants') return { error: 'no-grants', subject: verified.subject };
        return { error: 'invalid', reason: verified.reason };
      }
      if (!presented.startsWith(MANAGED_TOKEN_PREFIX)) return { error: 'invalid' };
      const record = await managedTokens.verify(presented);
      return record ? { principal: tokenPrincipal(record) } : { error: 'invalid' };
    },
  };
}
