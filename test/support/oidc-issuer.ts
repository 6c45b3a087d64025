// An OIDC issuer on loopback for tests: its discovery document and a JWKS of
// keys made here (real keys, signed with jose), served over HTTP; it counts
// the JWKS requests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export const AUDIENCE = 'https://tfcompute.example.com';

export class Issuer {
  readonly server: Server;
  url = '';
  jwksRequests = 0;
  readonly keys: Array<{ kid: string; alg: string; privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK }> = [];

  constructor() {
    this.server = createServer((req, res) => {
      const send = (body: unknown) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/.well-known/openid-configuration')
        send({
          issuer: this.url,
          jwks_uri: `${this.url}/jwks`,
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        });
      else if (req.url === '/elsewhere/.well-known/openid-configuration')
        send({ issuer: 'https://idp.example.com', jwks_uri: `${this.url}/jwks` });
      else if (req.url === '/jwks') {
        this.jwksRequests += 1;
        send({ keys: this.keys.map((key) => key.jwk) });
      } else res.writeHead(404).end();
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async addKey(alg: 'RS256' | 'ES256' | 'EdDSA', kid: string) {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    const key = { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
    this.keys.push(key);
    return key;
  }

  // An identity token signed with one of its keys (the first, unless named).
  async sign(
    claims: Record<string, unknown>,
    options: { kid?: string; issuer?: string; audience?: string; expiresAt?: number; notBefore?: number } = {},
  ): Promise<string> {
    const key = this.keys.find((k) => k.kid === (options.kid ?? this.keys[0]?.kid));
    if (!key) throw new Error('no such key');
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(options.issuer ?? this.url)
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(options.expiresAt ?? now + 300);
    if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
    return jwt.sign(key.privateKey);
  }
}
