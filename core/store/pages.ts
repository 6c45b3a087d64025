// Pages of an index read by lexical range (members are IndexMember's, see
// keys.ts): a page is the members after the previous page's last one, and
// the cursor a client gets is that member, encoded.
import type { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import { IndexMember } from './keys.ts';

export type Page<T> = { items: T[]; nextCursor: string | null };

// At most `limit` members of the index at `key` after the cursor's, newest
// or oldest first, and the cursor of the page after them (null: none).
export async function pageOfMembers(redis: Redis, key: string, order: 'newest' | 'oldest', limit: number, cursor: string | undefined): Promise<{ members: string[]; nextCursor: string | null }> {
  const after = cursor === undefined ? undefined : memberOf(cursor);
  const members =
    order === 'newest'
      ? await redis.zrange(key, after ? `(${after}` : '+', '-', 'BYLEX', 'REV', 'LIMIT', 0, limit + 1)
      : await redis.zrange(key, after ? `(${after}` : '-', '+', 'BYLEX', 'LIMIT', 0, limit + 1);
  const page = members.slice(0, limit);
  const last = page.at(-1);
  return { members: page, nextCursor: members.length > limit && last ? Buffer.from(last).toString('base64url') : null };
}

function memberOf(cursor: string): string {
  const member = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!IndexMember.isMember(member)) throw new AppError('invalid-cursor', 'cursor is not one this API returned');
  return member;
}
