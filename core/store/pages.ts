// Pages of an index read by lexical range (members are IndexMember's, see
// keys.ts): a page is the members after the previous page's last one, and
// the cursor a client gets is that member, encoded.
import type { RedisConnection } from '../redis.ts';
import { AppError } from '../errors.ts';
import { IndexMember } from './keys.ts';

export type Page<T> = { items: T[]; nextCursor: string | null };

// At most `limit` members of the index at `key` after the cursor's, newest
// or oldest first, and the cursor of the page after them (null: none).
// Several keys (indexes of disjoint sets, such as one per project) are read
// as their union: a page of each, in one round trip, merged.
export async function pageOfMembers(
  redis: RedisConnection,
  key: string | readonly string[],
  order: 'newest' | 'oldest',
  limit: number,
  cursor: string | undefined,
): Promise<{ members: string[]; nextCursor: string | null }> {
  const after = cursor === undefined ? undefined : memberOf(cursor);
  const keys = typeof key === 'string' ? [key] : key;
  if (keys.length === 0) return { members: [], nextCursor: null };
  const pipeline = redis.pipeline();
  for (const k of keys) {
    if (order === 'newest') pipeline.zrange(k, after ? `(${after}` : '+', '-', 'BYLEX', 'REV', 'LIMIT', 0, limit + 1);
    else pipeline.zrange(k, after ? `(${after}` : '-', '+', 'BYLEX', 'LIMIT', 0, limit + 1);
  }
  const pages: string[][] = [];
  for (const [error, members] of (await pipeline.exec()) ?? []) {
    if (error) throw error;
    pages.push(members as string[]);
  }
  const ascending = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const byOrder = (a: string, b: string) => (order === 'newest' ? ascending(b, a) : ascending(a, b));
  const members = pages.length === 1 ? (pages[0] ?? []) : pages.flat().sort(byOrder);
  const page = members.slice(0, limit);
  const last = page.at(-1);
  return { members: page, nextCursor: members.length > limit && last ? Buffer.from(last).toString('base64url') : null };
}

function memberOf(cursor: string): string {
  const member = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!IndexMember.isMember(member)) throw new AppError('invalid-cursor', 'cursor is not one this API returned');
  return member;
}
