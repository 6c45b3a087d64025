// Stacks (the API's resources), each one Terraform workspace: their
// statuses, inputs, template version, state's location and the record the
// API answers with and the store keeps.
import { z } from 'zod';
import { ProjectName, StackId, TemplateRef, Timestamp } from './identifiers.ts';
import { JobError, JobRef, Outputs } from './jobs.ts';
import { Drift } from './plans.ts';

// A stack's inputs: what the caller set and the template's defaults for the
// rest. Sensitive inputs are never among them.
export const StackInputs = z.record(z.string(), z.unknown()).meta({
  id: 'StackInputs',
  description:
    "The stack's Terraform inputs: those set on create, and the template's defaults for the rest. " +
    'Sensitive inputs are never shown.',
});
export type StackInputs = z.infer<typeof StackInputs>;

export const STACK_STATUSES = [
  'creating',
  'ready',
  'failed',
  'updating',
  'update_failed',
  'deleting',
  'deleted',
  'delete_failed',
] as const;
export const StackStatus = z.enum(STACK_STATUSES).meta({ id: 'ResourceStatus' });
export type StackStatus = z.infer<typeof StackStatus>;

export const StackTemplateRef = TemplateRef.extend({
  latest_version: z
    .string()
    .optional()
    .meta({
      description:
        "The template's version served now, when it is not the stack's; an update (even with no input " +
        'changes) moves the stack to it.',
    }),
}).meta({ id: 'StackTemplateRef' });

export const StackState = z
  .object({
    workspace: StackId.meta({ description: "The stack's Terraform workspace: its id." }),
    workspace_key_prefix: z
      .string()
      .nullable()
      .meta({
        description:
          "The S3 backend's `workspace_key_prefix` the stack's state is under (`tfcompute-stacks/{id}`), " +
          "so its state object is `{workspace_key_prefix}/{id}/{key}` in the backend's bucket. null: a " +
          "stack created before stacks had their own prefix, whose state is under the backend's configured " +
          '`workspace_key_prefix` (`env:` unless set).',
        example: 'tfcompute-stacks/k3v9q2m8x1c4b7n0',
      }),
  })
  .meta({
    id: 'StackState',
    description:
      "Where the stack's Terraform state is: what " +
      '`terraform init -backend-config=workspace_key_prefix=…` and `terraform workspace select` need to ' +
      'reach it by hand.',
  });
export type StackState = z.infer<typeof StackState>;

export const Stack = z
  .object({
    id: StackId,
    project: ProjectName,
    status: StackStatus,
    template: StackTemplateRef,
    inputs: StackInputs,
    outputs: Outputs,
    created_by: z.string().meta({
      description:
        'Who created the stack: the API token\'s name, the OIDC token\'s `sub`, or "local" in insecure local mode.',
    }),
    expires_at: Timestamp.nullable().meta({
      description: 'When the stack is destroyed automatically (from `ttl`), or null.',
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
    job: JobRef,
    drift: Drift,
    state: StackState,
    error: JobError.optional(),
  })
  .meta({
    id: 'Resource',
    example: {
      id: 'k3v9q2m8x1c4b7n0',
      project: 'payments',
      status: 'ready',
      template: { name: 'ec2instance', version: '3f9c2a1b7d4e5f60' },
      inputs: { instance_type: 't3.micro', node_count: 1, tags: { team: 'platform' } },
      outputs: { resource_id: 'k3v9q2m8x1c4b7n0', private_ips: ['10.0.1.17'], instance_ids: ['i-0abc123def4567890'] },
      created_by: 'ci',
      expires_at: null,
      created_at: '2026-11-22T10:00:00.000Z',
      updated_at: '2026-11-22T10:00:41.512Z',
      job: { id: 'jq4w8e2r6t0y3u5i', action: 'create', status: 'succeeded', href: '/api/jobs/jq4w8e2r6t0y3u5i' },
      drift: {
        status: 'in_sync',
        checked_at: '2026-11-22T10:00:41.512Z',
        job: { id: 'jq4w8e2r6t0y3u5i', href: '/api/jobs/jq4w8e2r6t0y3u5i' },
        resources: [],
      },
      state: { workspace: 'k3v9q2m8x1c4b7n0', workspace_key_prefix: 'tfcompute-stacks/k3v9q2m8x1c4b7n0' },
    },
  });
export type Stack = z.infer<typeof Stack>;
