// Tokens made through the API, as use cases: make one (never above what its
// maker holds), list a project's, revoke one. The caller has already found
// the project and checked that the principal may see it.
import { AppError } from '../errors.ts';
import type { ApiToken } from '../schemas/access.ts';
import type { ApiTokens, TokenRecord } from '../store/tokens.ts';
import { type AuditContext, noted } from '../store/audit.ts';
import { allows, type Principal, type Role, roleIn } from './roles.ts';

// Only a project's admins (and owners) make its tokens, and admin is the
// highest project role, so whoever may make a token may give it any role.
// `role` is asked all the same: the rule reads "never above the maker's own".
export function mayGrant(creator: Principal, project: string, role: Role): boolean {
  const held = roleIn(creator, project);
  return allows(held, 'admin') && allows(held, role);
}

// The principal a request with a managed token acts as.
export function tokenPrincipal(record: TokenRecord): Principal {
  return {
    kind: 'token',
    name: record.name,
    key: `${record.name}@${record.project}`,
    owner: false,
    grants: new Map([[record.project, record.role]]),
  };
}

export function toApiToken(record: TokenRecord): ApiToken {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    project: record.project,
    created_by: record.createdBy,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
    last_used_at: record.lastUsedAt,
  };
}

export async function createToken(
  tokens: ApiTokens,
  creator: Principal,
  project: string,
  body: { name: string; role: Role; expires_in?: number | undefined },
  audit?: AuditContext,
): Promise<ApiToken & { token: string }> {
  if (!mayGrant(creator, project, body.role)) {
    throw new AppError('insufficient-role', `making a token in project "${project}" needs the admin role there`);
  }
  const expiresInMs = body.expires_in === undefined ? undefined : body.expires_in * 1000;
  const made = await tokens.create(
    project,
    { name: body.name, role: body.role, createdBy: creator.name, expiresInMs },
    noted(audit, 'token.create'),
  );
  if (made.outcome === 'name-taken') {
    throw new AppError(
      'token-name-taken',
      `project "${project}" already has a token named "${body.name}"; revoke it or choose another name`,
    );
  }
  return { ...toApiToken(made.record), token: made.token };
}

export async function listTokens(tokens: ApiTokens, project: string): Promise<{ items: ApiToken[] }> {
  return { items: (await tokens.list(project)).map(toApiToken) };
}

// A token that is not the project's is not found, as one that never existed.
export async function revokeToken(tokens: ApiTokens, project: string, id: string, audit?: AuditContext): Promise<void> {
  if (!(await tokens.revoke(project, id, noted(audit, 'token.revoke'))))
    throw new AppError('token-not-found', `project "${project}" has no token ${id}`);
}
