// Who may do what: project roles that include the ones before them, and the
// principal a request acts as, with its grants. Every authorization decision
// asks `roleIn` for the caller's role in the object's project.
export const ROLES = ['read', 'plan', 'write', 'admin'] as const;
export type Role = (typeof ROLES)[number];

// A project name; `default` always exists.
export const PROJECT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const DEFAULT_PROJECT = 'default';

export type Principal = Readonly<{
  // How it proved who it is: an API token (API_TOKENS or made through the
  // API), an OIDC identity token, or nothing (the insecure local mode).
  kind: 'token' | 'oidc' | 'local';
  // For created_by, logs and the audit log: the token's name, the JWT's sub.
  name: string;
  // What per-caller limits and records are counted under (rate limit, held
  // requests, live stacks, Idempotency-Keys): unique across kinds, so two
  // tokens of one name in two projects, or a token and an OIDC subject,
  // never share them. An API_TOKENS entry's is its name, as before projects.
  key: string;
  // Every project, with every role, and creates and deletes projects.
  owner: boolean;
  // A role on every project (legacy API_TOKENS entries), if any.
  everyProject?: Role;
  // Project name → role.
  grants: ReadonlyMap<string, Role>;
}>;

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

// The higher of two roles (undefined: none).
export function higher(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return roleRank(a) >= roleRank(b) ? a : b;
}

// Whether the caller has a role in every project there is (an owner, or an
// API_TOKENS entry from before projects), rather than in those it is granted.
export function seesEveryProject(principal: Principal): boolean {
  return principal.owner || principal.everyProject !== undefined;
}

// The caller's role in a project, or undefined when it has none there (it
// must then not learn that the project's objects exist).
export function roleIn(principal: Principal, project: string): Role | undefined {
  if (principal.owner) return 'admin';
  return higher(principal.everyProject, principal.grants.get(project));
}

export function allows(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && roleRank(role) >= roleRank(needed);
}
