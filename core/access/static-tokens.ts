// The tokens of the API_TOKENS setting: parsing its entries into principals
// and finding the one a presented token belongs to. Only SHA-256 digests are
// kept in memory, and a presented token is compared with every entry in
// constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { PROJECT_NAME, type Principal, type Role, ROLES } from './roles.ts';

export type StaticToken = Readonly<{ principal: Principal; digest: Buffer }>;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const HASHED = /^sha256:([0-9a-f]{64})$/;
export const MIN_TOKEN_LENGTH = 24;

export function digestToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

const ROLES_HELP = `read, write, read+write, owner, or ROLE@PROJECT joined by "+" (ROLE: ${ROLES.join(', ')})`;

// Entries are separated by commas or newlines: `name:ROLES:secret`, where
// secret is either the token itself (at least 24 characters) or `sha256:` and
// the hex digest of it. ROLES is the legacy `read` (read on every project) or
// `write`/`read+write` (admin on every project, which is what they could do
// before projects existed), `owner`, or grants such as `write@payments+read@web`.
// A message about an entry names it by its name, or by its position when the
// name itself is wrong: the other fields may hold a secret pasted in the wrong
// place, so no message quotes them.
export function parseStaticTokens(setting: string): StaticToken[] {
  const tokens: StaticToken[] = [];
  let position = 0;
  for (const raw of setting.split(/[,\n]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    position += 1;
    const [name = '', roleList = '', ...rest] = entry.split(':');
    const secret = rest.join(':');
    // Fewer fields: which one is the secret cannot be told, so none is quoted.
    if (rest.length === 0)
      throw new Error(`entry ${position}: must be name:ROLES:secret, three fields separated by ":"`);
    if (!NAME.test(name))
      throw new Error(
        `entry ${position}: the token name (before the first ":") must be 1-64 letters, digits, "_", "." or "-"`,
      );
    if (tokens.some((t) => t.principal.name === name)) throw new Error(`token name "${name}" is used twice`);
    const fail = (problem: string) => new Error(`token "${name}": ${problem}`);
    const hashed = HASHED.exec(secret);
    let digest: Buffer;
    if (hashed?.[1]) digest = Buffer.from(hashed[1], 'hex');
    else if (secret.startsWith('sha256:')) throw fail('a sha256: entry needs 64 lowercase hex digits');
    else if (secret.length < MIN_TOKEN_LENGTH) throw fail(`the secret must be at least ${MIN_TOKEN_LENGTH} characters`);
    else digest = digestToken(secret);
    tokens.push({ principal: { kind: 'token', name, key: name, ...parseRoles(roleList, fail) }, digest });
  }
  return tokens;
}

type Powers = Pick<Principal, 'owner' | 'everyProject' | 'grants'>;

function parseRoles(roleList: string, fail: (problem: string) => Error): Powers {
  if (roleList === 'owner') return { owner: true, grants: new Map() };
  const parts = roleList.split('+');
  if (parts.every((part) => part === 'read' || part === 'write')) {
    return { owner: false, everyProject: parts.includes('write') ? 'admin' : 'read', grants: new Map() };
  }
  const grants = new Map<string, Role>();
  for (const [index, part] of parts.entries()) {
    const where = parts.length > 1 ? `role ${index + 1} of ${parts.length}: ` : '';
    const at = part.indexOf('@');
    if (at < 0) throw fail(`the roles must be ${ROLES_HELP}`);
    const role = part.slice(0, at);
    const project = part.slice(at + 1);
    if (!(ROLES as readonly string[]).includes(role))
      throw fail(`${where}the role before "@" must be one of ${ROLES.join(', ')}`);
    if (!PROJECT_NAME.test(project))
      throw fail(
        `${where}the project after "@" must be 1-63 lowercase letters, digits and "-", starting with a letter or digit`,
      );
    if (grants.has(project)) throw fail(`${where}names a project twice`);
    grants.set(project, role as Role);
  }
  return { owner: false, grants };
}

// The principal whose token was presented, if any. Every entry is compared,
// so the time taken does not tell which entry, or how much of one, matched.
export function findStaticToken(tokens: readonly StaticToken[], presented: string): Principal | undefined {
  const digest = digestToken(presented);
  let found: Principal | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(token.digest, digest)) found = token.principal;
  }
  return found;
}
