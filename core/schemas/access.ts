// Project roles and the tokens made through the API, as the API takes and
// shows them.
import { z } from 'zod';
import { ROLES } from '../access/roles.ts';
import { Ttl } from './http.ts';

export const RoleName = z.enum(ROLES).meta({
  id: 'Role',
  description:
    'A project role; each includes the ones before it. read: see stacks, jobs and logs. plan: also ' +
    'speculative plans and updates that wait for approval. write: also create, apply, discard, cancel, ' +
    'retry and delete. admin: also webhooks, deliveries, tokens, quota and audit log.',
});

export const TokenId = z
  .string()
  .regex(/^t[0-9a-z]{15}$/, 'must be "t" and 15 characters of 0-9 and a-z')
  .meta({ description: 'Token id.', example: 'tk3v9q2m8x1c4b7n' });

const TokenName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, '1-64 letters, digits, "_", "." or "-"')
  .meta({
    description:
      'Unique among the live tokens of its project; the name the audit log and created_by show for what it does.',
    example: 'ci-deploy',
  });

export const TokenCreateRequest = z
  .strictObject({
    name: TokenName,
    role: RoleName,
    expires_in: Ttl.optional().meta({
      type: 'string',
      description:
        'The token stops working this long after it is made: a whole number and s, m, h or d, from 1 s ' +
        'to 90 days. Left out: it works until revoked.',
      example: '30d',
    }),
  })
  .meta({
    id: 'TokenCreateRequest',
    description: "The role may not be above the creator's own in the project.",
    example: { name: 'ci-deploy', role: 'write', expires_in: '30d' },
  });

const Timestamp = z.iso.datetime();

export const ApiToken = z
  .object({
    id: TokenId,
    name: z.string(),
    role: RoleName,
    project: z.string(),
    created_by: z.string(),
    created_at: Timestamp,
    expires_at: Timestamp.nullable().meta({ description: 'When it stops working; null: when revoked.' }),
    last_used_at: Timestamp.nullable().meta({
      description: 'When it last authenticated a request, to the minute; null: never.',
    }),
  })
  .meta({
    id: 'ApiToken',
    description: 'A token made through the API. Its secret is shown once, when it is made, and is not stored.',
  });
export type ApiToken = z.infer<typeof ApiToken>;

export const ApiTokenWithSecret = ApiToken.extend({
  token: z.string().meta({
    description: 'The bearer token ("tfc_" and 43 base64url characters): shown only in this response.',
    example: 'tfc_q3Jx0S9fYtW2m1c8nA4vB7kE5hL6pR0uZ2dG9sT1yXo',
  }),
}).meta({ id: 'ApiTokenWithSecret' });

export const ApiTokenList = z
  .object({ items: z.array(ApiToken) })
  .meta({ id: 'ApiTokenList', description: "The project's live tokens, oldest first." });
