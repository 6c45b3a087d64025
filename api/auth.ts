// Bearer-token authentication for /api, and the per-token rate limit: who
// the caller is, with its grants (what it may do is decided per object, in
// access.ts). In the insecure local mode, only loopback Host names are served.
import type { Request, RequestHandler } from 'express';
import type { RedisConnection } from '../core/redis.ts';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../core/errors.ts';
import type { Authentication, Authenticator } from '../core/access/authenticator.ts';
import type { Principal } from '../core/access/roles.ts';
import { principalOf } from './principal.ts';
import { type FailedAuthLimiter, minuteWindow } from './limits.ts';
import { denial } from './audit.ts';
import { INSTALLATION } from '../core/store/index.ts';

const LOCAL: Principal = { kind: 'local', name: 'local', key: 'local', owner: true, grants: new Map() };

// The token of `Authorization: Bearer <token>`, if the header has that form.
// Up to 8 KB: CI systems' identity tokens (JWTs) run to several kilobytes.
export function bearerToken(req: Request): string | undefined {
  return /^Bearer +([\x21-\x7e]{1,8192}) *$/i.exec(req.get('authorization') ?? '')?.[1];
}

// authenticator undefined: insecure local mode, every request is the "local"
// principal, an owner. A request whose credential is missing or wrong counts
// against its address's `failures`, checked before the credential is; a
// verified identity that no binding grants anything is 403 no-grants, and
// not counted (it is who it says it is).
export function authenticate(authenticator: Authenticator | undefined, failures: FailedAuthLimiter): RequestHandler {
  return async (req, res, next) => {
    if (!authenticator) {
      res.locals.principal = LOCAL;
      return next();
    }
    await failures.refuseIfSpent(req);
    const presented = bearerToken(req);
    const found: Authentication = presented ? await authenticator.authenticate(presented) : { error: 'invalid' };
    if ('principal' in found) {
      res.locals.principal = found.principal;
      return next();
    }
    if (found.error === 'no-grants') {
      throw denial(
        new AppError(
          'no-grants',
          `"${found.subject}" is signed in, and no OIDC binding grants it a role in any project`,
        ),
        INSTALLATION,
        { kind: 'oidc', name: found.subject },
      );
    }
    await failures.count(req);
    if (found.reason) req.log.info({ reason: found.reason }, 'identity token refused');
    const given = req.get('authorization') !== undefined;
    throw new AppError(
      'unauthorized',
      given ? 'the bearer token is not valid' : 'send an API token: Authorization: Bearer <token>',
      {
        headers: {
          'WWW-Authenticate': given ? 'Bearer realm="tfcompute", error="invalid_token"' : 'Bearer realm="tfcompute"',
        },
      },
    );
  };
}

// A fixed one-minute window per principal, counted in Redis so that every API
// process shares it. RateLimit-* headers follow the IETF ratelimit-headers draft.
export function rateLimit(redis: RedisConnection, prefix: string, perMinute: number): RequestHandler {
  const limiter = minuteWindow(redis, `${prefix}:ratelimit`, perMinute);
  return async (req, res, next) => {
    const { name, key } = principalOf(req);
    let result: RateLimiterRes;
    try {
      result = await limiter.consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      res.set({ 'RateLimit-Limit': String(perMinute), 'RateLimit-Remaining': '0', 'RateLimit-Reset': String(seconds) });
      throw new AppError(
        'rate-limited',
        `token "${name}" may make ${perMinute} requests a minute; try again in ${seconds} s`,
        {
          headers: { 'Retry-After': String(seconds) },
        },
      );
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
    throw new AppError(
      'host-not-loopback',
      'in the insecure local mode (AUTH_MODE=insecure-local) only requests to localhost, 127.0.0.1 or ' +
        '[::1] are served; a request with another Host may come from a web page through DNS rebinding',
    );
  }
  next();
};
