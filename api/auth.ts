// Bearer-token authentication and scopes for /api, and the per-token rate
// limit. GET and HEAD need the read scope; every other method needs write.
// In the insecure local mode, only loopback Host names are served.
import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../core/errors.ts';
import { type ApiToken, findToken, type Principal, type Scope, SCOPES } from '../core/tokens.ts';
import type { FailedAuthLimiter } from './limits.ts';

// Who made the request, set by authenticate().
export function principalOf(req: Request): Principal {
  const principal = req.res?.locals.principal as Principal | undefined;
  if (!principal) throw new Error('principalOf() called before authenticate()');
  return principal;
}

const LOCAL: Principal = { name: 'local', scopes: SCOPES };

// The token of `Authorization: Bearer <token>`, if the header has that form.
// Up to 8 KB: CI systems' identity tokens (JWTs) run to several kilobytes.
export function bearerToken(req: Request): string | undefined {
  return /^Bearer +([\x21-\x7e]{1,8192}) *$/i.exec(req.get('authorization') ?? '')?.[1];
}

// tokens undefined: insecure local mode, every request is the "local" principal.
// A request whose token is missing or wrong counts against its address's
// `failures`, checked before the token is.
export function authenticate(tokens: readonly ApiToken[] | undefined, failures: FailedAuthLimiter): RequestHandler {
  return async (req, res, next) => {
    let principal: Principal | undefined = tokens ? undefined : LOCAL;
    if (tokens) {
      await failures.refuseIfSpent(req);
      const presented = bearerToken(req);
      const token = presented ? findToken(tokens, presented) : undefined;
      if (!token) {
        await failures.count(req);
        const given = req.get('authorization') !== undefined;
        throw new AppError('unauthorized', given ? 'the bearer token is not valid' : 'send an API token: Authorization: Bearer <token>', {
          headers: { 'WWW-Authenticate': given ? 'Bearer realm="tfcompute", error="invalid_token"' : 'Bearer realm="tfcompute"' },
        });
      }
      principal = { name: token.name, scopes: token.scopes };
    }
    const needed: Scope = req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write';
    if (!principal!.scopes.includes(needed)) {
      throw new AppError('insufficient-scope', `token "${principal!.name}" has no ${needed} scope, which ${req.method} needs`, {
        headers: { 'WWW-Authenticate': `Bearer realm="tfcompute", error="insufficient_scope", scope="${needed}"` },
      });
    }
    res.locals.principal = principal;
    next();
  };
}

// A fixed one-minute window per principal, counted in Redis so that every API
// process shares it. RateLimit-* headers follow the IETF ratelimit-headers draft.
export function rateLimit(redis: Redis, prefix: string, perMinute: number): RequestHandler {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${prefix}:ratelimit`,
    points: perMinute,
    duration: 60,
    rejectIfRedisNotReady: true,
  });
  return async (req, res, next) => {
    const name = principalOf(req).name;
    let result: RateLimiterRes;
    try {
      result = await limiter.consume(name);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      res.set({ 'RateLimit-Limit': String(perMinute), 'RateLimit-Remaining': '0', 'RateLimit-Reset': String(seconds) });
      throw new AppError('rate-limited', `token "${name}" may make ${perMinute} requests a minute; try again in ${seconds} s`, {
        headers: { 'Retry-After': String(seconds) },
      });
    }
    res.set({
      'RateLimit-Limit': String(perMinute),
      'RateLimit-Remaining': String(result.remainingPoints),
      'RateLimit-Reset': String(Math.max(1, Math.ceil(result.msBeforeNext / 1000))),
    });
    next();
  };
}

const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;

// A page on any site can have its own name resolve to 127.0.0.1 (DNS
// rebinding) and then call a token-less API from the browser; its requests
// carry that name as Host, so they are refused.
export const loopbackHostOnly: RequestHandler = (req, _res, next) => {
  if (!LOOPBACK_HOST.test(req.get('host') ?? '')) {
    throw new AppError('host-not-loopback', 'in the insecure local mode (AUTH_MODE=insecure-local) only requests to localhost, 127.0.0.1 or [::1] are served; a request with another Host may come from a web page through DNS rebinding');
  }
  next();
};
