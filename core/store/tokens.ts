// Tokens made through the API, in Redis. A token's secret is never stored:
// its record holds the SHA-256 of it, and a presented token is found by that
// digest in one script, so a revocation holds at once on every API process.
import { randomBytes } from 'node:crypto';
import { digestToken } from '../access/static-tokens.ts';
import type { Role } from '../access/roles.ts';
import { newTokenId } from '../ids.ts';
import type { ContextOf } from './context.ts';
import { parse, type TokenFields } from './outcomes.ts';
import { auditRecord, type AuditNote } from './audit.ts';

export type TokenRecord = Readonly<{
  id: string;
  project: string;
  name: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  // null: it never expires.
  expiresAt: string | null;
  // null: never used. Recorded to the minute (LAST_USE_RESOLUTION_MS).
  lastUsedAt: string | null;
}>;

export type NewToken = Readonly<{ name: string; role: Role; createdBy: string; expiresInMs?: number | undefined }>;

// `token`: the secret, which exists only in this answer.
export type TokenCreate = { outcome: 'created'; record: TokenRecord; token: string } | { outcome: 'name-taken' };

// Every token made through the API starts with this (so do the ones
// `npm run token` makes for API_TOKENS, which are found before Redis is asked).
export const MANAGED_TOKEN_PREFIX = 'tfc_';

// A busy token records its last use once a minute, not on every request.
export const LAST_USE_RESOLUTION_MS = 60_000;

// 32 random bytes: guessing one is out of reach, so a plain digest (no salt,
// no slow hash) is enough to keep it, and lets a presented token be found.
function newSecret(): string {
  return MANAGED_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

function iso(ms: string): string | null {
  return ms === '' ? null : new Date(Number(ms)).toISOString();
}

function toRecord([id, project, name, role, createdBy, createdMs, expiresMs, lastUsedMs]: TokenFields): TokenRecord {
  return {
    id,
    project,
    name,
    role: role as Role,
    createdBy,
    createdAt: iso(createdMs) ?? '',
    expiresAt: iso(expiresMs),
    lastUsedAt: iso(lastUsedMs),
  };
}

export class ApiTokens {
  readonly #c: ContextOf<'keys' | 'scripts' | 'audit'>;
  // Injectable so that tests can expire a token without waiting.
  readonly #now: () => number;

  constructor(context: ContextOf<'keys' | 'scripts' | 'audit'>, now: () => number = Date.now) {
    this.#c = context;
    this.#now = now;
  }

  // Makes a token unless the project has a live one of that name.
  async create(project: string, token: NewToken, audit?: AuditNote): Promise<TokenCreate> {
    const { scripts, keys } = this.#c;
    const id = newTokenId();
    const secret = newSecret();
    const digest = digestToken(secret).toString('hex');
    const createdMs = this.#now();
    const expiresMs = token.expiresInMs === undefined ? '' : String(createdMs + token.expiresInMs);
    const fields = [
      ...['id', id, 'project', project, 'name', token.name, 'role', token.role, 'created_by', token.createdBy],
      ...['created_ms', String(createdMs), 'expires_ms', expiresMs, 'last_used_ms', '', 'digest', digest],
    ];
    const tokenKeys = [keys.token(id), keys.tokenDigest(digest), keys.tokenNames(project)];
    const reply = await scripts.run('create-token', tokenKeys, {
      id,
      name: token.name,
      expiresMs,
      project,
      fields,
      audit: auditRecord(this.#c, audit),
    });
    if (parse.createToken(reply).outcome === 'taken') return { outcome: 'name-taken' };
    const record = toRecord([id, project, token.name, token.role, token.createdBy, String(createdMs), expiresMs, '']);
    return { outcome: 'created', record, token: secret };
  }

  // The token a presented secret is, if it is one that is neither revoked
  // nor expired: one round trip.
  async verify(presented: string): Promise<TokenRecord | undefined> {
    const digest = digestToken(presented).toString('hex');
    const args = { nowMs: this.#now(), resolution: LAST_USE_RESOLUTION_MS };
    const reply = await this.#c.scripts.run('verify-token', [this.#c.keys.tokenDigest(digest)], args);
    const verified = parse.verifyToken(reply);
    return verified.outcome === 'valid' ? toRecord(verified.fields) : undefined;
  }

  // The project's live tokens, oldest first, without secrets.
  async list(project: string): Promise<TokenRecord[]> {
    const reply = await this.#c.scripts.run('list-tokens', [this.#c.keys.tokenNames(project)], {});
    const records = parse.listTokens(reply).map(toRecord);
    return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  // Whether the project had the token.
  async revoke(project: string, id: string, audit?: AuditNote): Promise<boolean> {
    const { scripts, keys } = this.#c;
    const args = { id, project, audit: auditRecord(this.#c, audit) };
    const [outcome] = await scripts.run('revoke-token', [keys.token(id), keys.tokenNames(project)], args);
    return outcome === 'revoked';
  }

  // Revokes every token of a project (it is being deleted); how many were live.
  async revokeAll(project: string): Promise<number> {
    const [, count] = await this.#c.scripts.run('revoke-project-tokens', [this.#c.keys.tokenNames(project)], {});
    return Number(count);
  }
}
