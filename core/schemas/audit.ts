// The audit log as the API shows it: one entry per change a user made, and
// per attempt the API refused for want of a role.
import { z } from 'zod';
import { ProjectName } from './identifiers.ts';

// Stable names, never reused: clients filter on them.
export const AUDIT_ACTIONS = [
  'stack.create',
  'stack.update',
  'stack.retry',
  'stack.delete',
  'stack.plan',
  'job.apply',
  'job.discard',
  'job.cancel',
  'job.override',
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.rotate-secret',
  'webhook.ping',
  'webhook.redeliver',
  'token.create',
  'token.revoke',
  'project.create',
  'project.update',
  'project.delete',
  'policy.create',
  'policy.update',
  'policy.delete',
  // A request refused before it reached a route: the identity has no grants.
  'api.request',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AuditEntry = z
  .object({
    id: z.string().meta({ description: "The entry's id." }),
    at: z.iso.datetime(),
    project: ProjectName.nullable().meta({
      description:
        "The project the caller acted in; null: the installation's own (webhooks, and refusals on " +
        "another project's objects, which only owners see).",
    }),
    actor: z.object({
      kind: z.enum(['token', 'oidc', 'local']),
      name: z.string().meta({ description: "The token's name, or the identity token's `sub`." }),
    }),
    action: z.enum(AUDIT_ACTIONS),
    target: z.object({
      type: z.string(),
      id: z.string().nullable().meta({ description: 'null: a create that was refused (nothing was made).' }),
    }),
    request_id: z.string().meta({ description: 'The X-Request-Id of the request.' }),
    outcome: z.enum(['allowed', 'denied']),
  })
  .meta({
    id: 'AuditEntry',
    example: {
      id: 'a3k9v2m8x1c4b7nq',
      at: '2026-12-01T10:00:00.000Z',
      project: 'payments',
      actor: { kind: 'token', name: 'ci-deploy' },
      action: 'job.apply',
      target: { type: 'job', id: 'jk3v9q2m8x1c4b7n' },
      request_id: '6f1c0e3a-2b8d-4c55-9a0e-1d2f3b4c5d6e',
      outcome: 'allowed',
    },
  });
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditList = z
  .object({
    items: z.array(AuditEntry),
    next_cursor: z
      .string()
      .nullable()
      .meta({
        description:
          'Pass as `cursor` for the next page; null on the last. With `actor` or `action`, a page may hold ' +
          'fewer than `limit` entries (even none) and still have a next one.',
      }),
  })
  .meta({ id: 'AuditList', description: 'A page of audit entries, newest first.' });

export const AuditQuery = z.strictObject({
  project: ProjectName.optional().meta({
    description:
      'The project whose log to read (its admins). Left out: every entry of the installation (owners), ' +
      'or the log of the one project the caller is an admin of.',
  }),
  actor: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .meta({ description: 'Only the entries of this actor (its name, exactly).' }),
  action: z.enum(AUDIT_ACTIONS).optional().meta({ description: 'Only the entries of this action.' }),
  limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Page size, 1-100.' }),
  cursor: z.string().max(200).optional().meta({ description: 'Opaque cursor from a previous page.' }),
});
