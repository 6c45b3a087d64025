// API bearer tokens: parsing the API_TOKENS setting and checking a presented
// token against it. Only SHA-256 digests are kept in memory, and a presented
// token is compared with every entry in constant time. The read/write scopes
// before projects: core/access/ replaces this once api/auth.ts asks it.
import { timingSafeEqual } from 'node:crypto';
import { digestToken, MIN_TOKEN_LENGTH } from './access/static-tokens.ts';

export { digestToken, MIN_TOKEN_LENGTH };

export const SCOPES = ['read', 'write'] as const;
export type Scope = (typeof SCOPES)[number];

export type ApiToken = Readonly<{ name: string; scopes: readonly Scope[]; digest: Buffer }>;

// The identity a request acts as: the token's name, or "local" in insecure local mode.
export type Principal = Readonly<{ name: string; scopes: readonly Scope[] }>;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const HASHED = /^sha256:([0-9a-f]{64})$/;

// Entries are separated by commas or newlines: `name:scopes:secret`, where
// scopes is `read`, `write` or `read+write`, and secret is either the token
// itself (at least 24 characters) or `sha256:` and the hex digest of it.
export function parseTokens(setting: string): ApiToken[] {
  const tokens: ApiToken[] = [];
  for (const raw of setting.split(/[,\n]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const [name = '', scopeList = '', ...rest] = entry.split(':');
    const secret = rest.join(':');
    if (!NAME.test(name)) throw new Error(`token name "${name}" must be 1-64 letters, digits, "_", "." or "-"`);
    if (tokens.some((t) => t.name === name)) throw new Error(`token name "${name}" is used twice`);
    const scopes = scopeList.split('+');
    if (scopes.length === 0 || !scopes.every((s): s is Scope => (SCOPES as readonly string[]).includes(s))) {
      throw new Error(`token "${name}": scopes must be read, write or read+write, not "${scopeList}"`);
    }
    const hashed = HASHED.exec(secret);
    let digest: Buffer;
    if (hashed?.[1]) digest = Buffer.from(hashed[1], 'hex');
    else if (secret.startsWith('sha256:')) throw new Error(`token "${name}": a sha256: entry needs 64 lowercase hex digits`);
    else if (secret.length < MIN_TOKEN_LENGTH) throw new Error(`token "${name}": the secret must be at least ${MIN_TOKEN_LENGTH} characters`);
    else digest = digestToken(secret);
    tokens.push({ name, scopes: [...new Set(scopes)] as Scope[], digest });
  }
  return tokens;
}

// Returns the matching token, if any. Every entry is compared, so the time
// taken does not tell which entry, or how much of one, matched.
export function findToken(tokens: readonly ApiToken[], presented: string): ApiToken | undefined {
  const digest = digestToken(presented);
  let found: ApiToken | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(token.digest, digest)) found = token;
  }
  return found;
}
