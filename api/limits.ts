// Bounds on what one client can hold of the API: requests that fail
// authentication, per client address, and requests held open, per principal.
// (Authenticated requests are limited per principal in auth.ts.)
import type { Request, RequestHandler } from 'express';
import type { RedisConnection } from '../core/redis.ts';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../core/errors.ts';
import { principalOf } from './principal.ts';
import { preferredWait } from './prefer.ts';

export type FailedAuthLimiter = {
  // Refuses the request with 429 when its address has no failures left this minute.
  refuseIfSpent(req: Request): Promise<void>;
  // Counts one failed authentication against the request's address.
  count(req: Request): Promise<void>;
};

// `perMinute` points a key in a fixed one-minute window, counted in Redis so
// that every API process shares it; with Redis away it refuses, not admits.
export function minuteWindow(redis: RedisConnection, keyPrefix: string, perMinute: number): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points: perMinute,
    duration: 60,
    rejectIfRedisNotReady: true,
  });
}

// Failures only are counted, so many users behind one proxy (one address)
// are limited per token, not together; an address that has spent its budget
// is refused before its token is read. The address is req.ip, as the app's
// `trust proxy` setting makes it. Failures are counted in Redis, so every API
// process shares the budget; an address found over it is remembered in this
// process until its minute ends, so the check costs a request with a good
// token nothing (another process refuses it from its own next failure on).
export function failedAuthLimiter(redis: RedisConnection, prefix: string, perMinute: number): FailedAuthLimiter {
  const limiter = minuteWindow(redis, `${prefix}:authfail`, perMinute);
  // Address → when its minute ends (ms), oldest first.
  const spent = new Map<string, number>();
  const address = (req: Request) => req.ip ?? 'unknown';
  const remember = (key: string, msBeforeNext: number) => {
    spent.delete(key);
    spent.set(key, Date.now() + msBeforeNext);
    // A flood from many addresses cannot grow it without bound.
    for (const oldest of spent.keys()) {
      if (spent.size <= MAX_SPENT_ADDRESSES) break;
      spent.delete(oldest);
    }
  };
  return {
    // No RateLimit-* headers: those describe the token's limit.
    async refuseIfSpent(req) {
      const key = address(req);
      const until = spent.get(key);
      if (until === undefined) return;
      if (until <= Date.now()) {
        spent.delete(key);
        return;
      }
      const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
      throw new AppError(
        'rate-limited',
        `more than ${perMinute} requests a minute from this address failed authentication; try again in ${seconds} s`,
        {
          headers: { 'Retry-After': String(seconds) },
        },
      );
    },
    async count(req) {
      const key = address(req);
      try {
        const counted = await limiter.consume(key);
        if (counted.consumedPoints >= perMinute) remember(key, counted.msBeforeNext);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        remember(key, error.msBeforeNext);
      }
    },
  };
}

const MAX_SPENT_ADDRESSES = 100_000;

// Counted in this process from the request's start until its response closes
// (answered, or the client went). Not in Redis: a count there would outlive a
// process that died with requests open.
export function heldRequestLimit(max: number): RequestHandler {
  const held = new Map<string, number>();
  return (req, res, next) => {
    if (!asksToBeHeld(req)) return next();
    const { name, key } = principalOf(req);
    const count = held.get(key) ?? 0;
    if (count >= max) {
      throw new AppError(
        'too-many-held-requests',
        `"${name}" already holds ${max} requests open (Prefer: wait, live logs); end one, or ask without waiting`,
      );
    }
    held.set(key, count + 1);
    res.once('close', () => {
      const left = (held.get(key) ?? 1) - 1;
      if (left > 0) held.set(key, left);
      else held.delete(key);
    });
    next();
  };
}

// Prefer: wait=N (N > 0) on a change, or a live log (Accept: text/event-stream,
// chosen as routes/jobs.ts chooses it).
function asksToBeHeld(req: Request): boolean {
  if (req.method === 'GET' || req.method === 'HEAD')
    return req.accepts(['text/plain', 'text/event-stream']) === 'text/event-stream';
  return (preferredWait(req.get('prefer')) ?? 0) > 0;
}
