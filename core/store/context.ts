// What every part of the store shares: the connection, the key layout, the
// scripts, how long a finished job is kept, and the audit log's retention
// and clock (injectable, so that tests can trim without waiting).
import type { RedisConnection } from '../redis.ts';
import type { Keys } from './keys.ts';
import type { Scripts } from './scripts.ts';

export type StoreContext = {
  readonly redis: RedisConnection;
  readonly keys: Keys;
  readonly scripts: Scripts;
  readonly jobRetentionSeconds: number;
  readonly audit: Readonly<{ retentionMs: number; now: () => number }>;
};

// A part's slice of the context: only what it uses.
export type ContextOf<K extends keyof StoreContext> = Pick<StoreContext, K>;

export function nowArgs(): { now: string; nowMs: number } {
  const date = new Date();
  return { now: date.toISOString(), nowMs: date.getTime() };
}
