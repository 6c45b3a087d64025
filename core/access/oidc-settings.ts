// What the OIDC settings may say, checked at start-up (core/config.ts): the
// issuer's URL, and OIDC_BINDINGS, which verified identity tokens get which
// project roles. A binding names claims and the values they must have (`*`
// matching any run of characters); every binding whose claims all match
// grants its role, and the highest role per project wins.
import { z } from 'zod';
import { higher, PROJECT_NAME, type Role, ROLES } from './roles.ts';

export type OidcSettings = Readonly<{ issuer: string; audience: string; bindings: readonly OidcBinding[] }>;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

// Keys and tokens are trusted for what this URL serves, so it must be
// https://, except on this machine (tests and a local IdP).
export function isTrustedUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  if (url.username || url.password || url.hash) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

const Binding = z.strictObject({
  claims: z
    .record(z.string().min(1, 'a claim name may not be empty'), z.string().min(1, 'a claim pattern may not be empty'))
    .refine(
      (claims) => Object.keys(claims).length > 0,
      'name at least one claim: a binding without one would grant every token of the issuer',
    ),
  project: z
    .string()
    .regex(PROJECT_NAME, 'a project name: 1-63 lowercase letters, digits and "-", starting with a letter or digit'),
  role: z.enum(ROLES),
});
export type OidcBinding = z.infer<typeof Binding>;

const Bindings = z.array(Binding);

// The bindings in `json`, or an Error whose message names each entry (by its
// index, from 0) and field that is wrong.
export function parseBindings(json: string): OidcBinding[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  const parsed = Bindings.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new Error(
    parsed.error.issues
      .map((issue) => {
        const [index, ...rest] = issue.path.map(String);
        const where =
          index === undefined ? 'the bindings' : `entry ${index}${rest.length ? ` (${rest.join('.')})` : ''}`;
        const message =
          issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
        return `${where}: ${message}`;
      })
      .join('; '),
  );
}

// The OIDC settings as given (empty strings: not set), or undefined when none
// is set. OIDC_BINDINGS is JSON, or the path of a JSON file, which `readFile`
// reads. Each problem is added to `problems`, naming its variable.
export function checkOidcSettings(
  given: Readonly<{ issuer: string; audience: string; bindings: string }>,
  readFile: (path: string) => string,
  problems: string[],
): OidcSettings | undefined {
  const { issuer, audience, bindings } = given;
  if (!issuer && !audience && !bindings) return undefined;
  if (!isTrustedUrl(issuer))
    problems.push(
      'OIDC_ISSUER: must be an https:// URL (http:// only on 127.0.0.1, localhost or [::1]), set with ' +
        'OIDC_AUDIENCE and OIDC_BINDINGS',
    );
  if (!audience) problems.push('OIDC_AUDIENCE: needed with OIDC_ISSUER: the `aud` the identity tokens are made for');
  let parsed: OidcBinding[] = [];
  try {
    if (!bindings) throw new Error('needed with OIDC_ISSUER: JSON, or the path of a JSON file');
    parsed = parseBindings(/^\s*[[{]/.test(bindings) ? bindings : readFile(bindings));
  } catch (error) {
    problems.push(`OIDC_BINDINGS: ${(error as Error).message}`);
  }
  return { issuer, audience, bindings: parsed };
}

// Whether `value` matches `pattern`, where `*` stands for any run of
// characters (none included) and every other character for itself. Matched
// piece by piece, never through a RegExp built from the pattern, so nothing
// in a pattern is taken as regex syntax. Placing each middle piece at its
// first occurrence after the previous one is always safe: an earlier place
// leaves more room for the pieces after it.
export function globMatches(pattern: string, value: string): boolean {
  const pieces = pattern.split('*');
  const first = pieces[0] ?? '';
  if (pieces.length === 1) return value === first;
  const last = pieces.at(-1) ?? '';
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  const end = value.length - last.length;
  let at = first.length;
  for (const piece of pieces.slice(1, -1)) {
    const found = value.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

// The grants a token's claims earn. Only string claims match a pattern: a
// number, list or object never does.
export function grantsFor(
  claims: Readonly<Record<string, unknown>>,
  bindings: readonly OidcBinding[],
): Map<string, Role> {
  const grants = new Map<string, Role>();
  for (const binding of bindings) {
    const matches = Object.entries(binding.claims).every(([name, pattern]) => {
      const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
      return typeof value === 'string' && globMatches(pattern, value);
    });
    const role = matches ? higher(grants.get(binding.project), binding.role) : undefined;
    if (role) grants.set(binding.project, role);
  }
  return grants;
}
