// What every part of the store shares: the connection, the key layout, the
// scripts, and how long a finished job is kept.
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';
import type { Scripts } from './scripts.ts';

export type StoreContext = {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly scripts: Scripts;
  readonly jobRetentionSeconds: number;
};

export function nowArgs(): { now: string; nowMs: number } {
  const date = new Date();
  return { now: date.toISOString(), nowMs: date.getTime() };
}
