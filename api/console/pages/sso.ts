// Single sign-on for the console: OIDC's authorization-code flow with PKCE,
// `state` and `nonce`, by openid-client (panva's, which checks the ID
// token's signature, issuer, audience, expiry and nonce). The ID token's
// claims are bound to roles by OIDC_BINDINGS, as a bearer identity token's are.
import * as client from 'openid-client';
import { principalForClaims } from '../../../core/access/oidc.ts';
import type { OidcSettings } from '../../../core/access/oidc-settings.ts';
import { AppError } from '../../../core/errors.ts';
import type { Credential } from '../sessions.ts';

export type SsoFlow = { state: string; nonce: string; verifier: string; redirectUri: string };
export type SignedIn = { outcome: 'valid'; credential: Credential } | { outcome: 'no-grants'; subject: string };
export type SingleSignOn = {
  // The origin the sign-in form is sent on to (its authorization endpoint's).
  formTarget(): Promise<string>;
  start(redirectUri: string): Promise<{ url: string; flow: SsoFlow }>;
  finish(callback: URL, flow: SsoFlow): Promise<SignedIn>;
};

export function singleSignOn(settings: OidcSettings, clientId: string, clientSecret: string): SingleSignOn {
  let discovered: Promise<client.Configuration> | undefined;
  const configuration = () => {
    // http only reaches a loopback issuer (config.ts refuses others).
    const insecure = settings.issuer.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : undefined;
    discovered ??= client.discovery(new URL(settings.issuer), clientId, clientSecret, undefined, insecure);
    discovered.catch(() => {
      discovered = undefined;
    });
    return discovered;
  };
  return {
    async formTarget() {
      try {
        return new URL((await configuration()).serverMetadata().authorization_endpoint ?? settings.issuer).origin;
      } catch {
        // The button then answers that the provider cannot be reached.
        return new URL(settings.issuer).origin;
      }
    },
    async start(redirectUri) {
      const config = await unavailableIfFails(configuration());
      const verifier = client.randomPKCECodeVerifier();
      const flow = { state: client.randomState(), nonce: client.randomNonce(), verifier, redirectUri };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: flow.state,
        nonce: flow.nonce,
      });
      return { url: url.href, flow };
    },
    async finish(callback, flow) {
      const config = await unavailableIfFails(configuration());
      let claims: Record<string, unknown> | undefined;
      try {
        const tokens = await client.authorizationCodeGrant(
          config,
          callback,
          {
            pkceCodeVerifier: flow.verifier,
            expectedState: flow.state,
            expectedNonce: flow.nonce,
            idTokenExpected: true,
          },
          { redirect_uri: flow.redirectUri },
        );
        claims = tokens.claims();
      } catch (error) {
        // openid-client's own message is general; its cause names the check that failed.
        const cause = (error as Error).cause instanceof Error ? ` (${((error as Error).cause as Error).message})` : '';
        throw new AppError(
          'unauthorized',
          `the identity provider's answer was refused: ${(error as Error).message}${cause}`,
          { cause: error },
        );
      }
      if (!claims) throw new AppError('unauthorized', 'the identity provider sent no ID token');
      const found = principalForClaims(claims, settings.bindings);
      if (found.outcome === 'no-grants') return found;
      return { outcome: 'valid', credential: { kind: 'sso', subject: String(claims.sub), claims } };
    },
  };
}

async function unavailableIfFails<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw new AppError('backend-unavailable', 'the identity provider cannot be reached now; try again shortly', {
      cause: error,
    });
  }
}
