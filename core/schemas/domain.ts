// The domain: stacks (resources), their inputs and outputs, and the jobs
// that change them. The API answers with these shapes and the store records them.
import { z } from 'zod';
import { ID_PATTERN, ID_PATTERN_SOURCE } from '../ids.ts';

// Current-generation x86_64 types only: the module picks an x86_64 AMI.
export const INSTANCE_TYPES = [
  't3.nano', 't3.micro', 't3.small', 't3.medium', 't3.large', 't3.xlarge', 't3.2xlarge',
  't3a.nano', 't3a.micro', 't3a.small', 't3a.medium', 't3a.large', 't3a.xlarge', 't3a.2xlarge',
  'm7i.large', 'm7i.xlarge', 'm7i.2xlarge', 'c7i.large', 'c7i.xlarge', 'c7i.2xlarge',
  'r7i.large', 'r7i.xlarge', 'r7i.2xlarge',
] as const;

export const MAX_TAGS = 20;
// JSON Schema patterns are ECMA-262 regexes matched with Unicode semantics,
// as the `u` flag gives; the document carries the source, not the flag.
const TAG_CHARS = /^[\p{L}\p{N} _.:/=+\-@]*$/u;
const TAG_PATTERN = { pattern: TAG_CHARS.source };

export const ResourceId = z
  .string()
  .regex(ID_PATTERN, 'must be 16 characters of 0-9 and a-z')
  .meta({ description: 'Resource id; also the Terraform workspace name.', example: 'k3v9q2m8x1c4b7n0', pattern: ID_PATTERN_SOURCE });

export const JobId = z
  .string()
  .regex(ID_PATTERN, 'must be 16 characters of 0-9 and a-z')
  .meta({ description: 'Job id.', example: 'jq4w8e2r6t0y3u5i', pattern: ID_PATTERN_SOURCE });

const TagKey = z
  .string()
  .min(1)
  .max(128)
  .regex(TAG_CHARS, 'tag keys may hold letters, digits, spaces and _ . : / = + - @')
  .refine((key) => !key.toLowerCase().startsWith('aws:'), 'the "aws:" prefix is reserved by AWS')
  .meta(TAG_PATTERN);
const TagValue = z.string().max(256).regex(TAG_CHARS, 'tag values may hold letters, digits, spaces and _ . : / = + - @').meta(TAG_PATTERN);

export const Tags = z
  .record(TagKey, TagValue)
  .refine((tags) => Object.keys(tags).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`)
  .meta({ id: 'Tags',
    description: `Tags applied to every AWS object of the stack (at most ${MAX_TAGS}; keys 1-128, values 0-256 characters).`,
    example: { team: 'platform', env: 'dev' },
  });

// The stack's Terraform inputs: what goes into the workspace's variables (the
// create request adds ttl to these fields).
export const stackInputShape = {
  instance_type: z.enum(INSTANCE_TYPES).default('t3.micro').meta({ description: 'EC2 instance type.' }),
  node_count: z.int().min(1).max(10).default(1).meta({ description: 'Number of instances.' }),
  tags: Tags.default({}),
};
export const StackInputs = z
  .strictObject(stackInputShape)
  .required()
  .meta({ id: 'StackInputs', description: "The stack's Terraform inputs, defaults filled in." });
export type ResourceInputs = z.output<typeof StackInputs>;

export const RESOURCE_STATUSES = ['creating', 'ready', 'failed', 'deleting', 'deleted', 'delete_failed'] as const;
export const ResourceStatus = z.enum(RESOURCE_STATUSES).meta({ id: 'ResourceStatus' });
export type ResourceStatus = z.infer<typeof ResourceStatus>;

export const JOB_ACTIONS = ['create', 'delete'] as const;
export const JobAction = z.enum(JOB_ACTIONS).meta({ id: 'JobAction' });
export type JobAction = z.infer<typeof JobAction>;

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const FINISHED_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];
export const JobStatus = z.enum(JOB_STATUSES).meta({ id: 'JobStatus' });
export type JobStatus = z.infer<typeof JobStatus>;

export const Diagnostic = z
  .object({
    severity: z.enum(['error', 'warning']),
    summary: z.string(),
    detail: z.string(),
    address: z.string().optional(),
  })
  .meta({ id: 'Diagnostic', description: "One of Terraform's diagnostics, as Terraform wrote it." });
export type Diagnostic = z.infer<typeof Diagnostic>;

export const JobError = z
  .object({
    message: z.string(),
    retryable: z.boolean(),
    diagnostics: z.array(Diagnostic),
  })
  .meta({ id: 'JobError',
    example: {
      message: 'terraform apply failed: local-exec provisioner error',
      retryable: false,
      diagnostics: [{ severity: 'error', summary: 'local-exec provisioner error', detail: 'Error running command ...' }],
    },
  });
export type JobError = z.infer<typeof JobError>;

export const Outputs = z
  .record(z.string(), z.unknown())
  .meta({ id: 'Outputs',
    description: 'Root module outputs, name to value. Sensitive outputs read "[REDACTED]".',
    example: { resource_id: 'k3v9q2m8x1c4b7n0', private_ips: ['10.0.1.17'], instance_ids: ['i-0abc123def4567890'] },
  });
export type Outputs = z.infer<typeof Outputs>;

export const ChangeSummary = z.object({ add: z.int(), change: z.int(), remove: z.int() }).meta({ id: 'ChangeSummary' });
export type ChangeSummary = z.infer<typeof ChangeSummary>;

export const JobResult = z
  .object({ outputs: Outputs, changes: ChangeSummary, duration_ms: z.int() })
  .meta({ id: 'JobResult' });
export type JobResult = z.infer<typeof JobResult>;

export const JobProgress = z
  .object({ completed: z.int(), total: z.int().nullable() })
  .meta({ id: 'JobProgress', description: 'Resource operations done, of those planned (null until the plan is known).' });
export type JobProgress = z.infer<typeof JobProgress>;

const Timestamp = z.iso.datetime().meta({ example: '2026-11-22T10:00:00.000Z' });

export const JobRef = z
  .object({ id: JobId, action: JobAction, status: JobStatus, href: z.string() })
  .meta({ id: 'JobRef', description: "The resource's current or last job." });

export const Resource = z
  .object({
    id: ResourceId,
    status: ResourceStatus,
    inputs: StackInputs,
    outputs: Outputs,
    created_by: z.string().meta({ description: 'Name of the API token that created the stack ("local" in insecure local mode).' }),
    expires_at: Timestamp.nullable().meta({ description: 'When the stack is destroyed automatically (from `ttl`), or null.' }),
    created_at: Timestamp,
    updated_at: Timestamp,
    job: JobRef,
    error: JobError.optional(),
  })
  .meta({ id: 'Resource',
    example: {
      id: 'k3v9q2m8x1c4b7n0',
      status: 'ready',
      inputs: { instance_type: 't3.micro', node_count: 1, tags: { team: 'platform' } },
      outputs: { resource_id: 'k3v9q2m8x1c4b7n0', private_ips: ['10.0.1.17'], instance_ids: ['i-0abc123def4567890'] },
      created_by: 'ci',
      expires_at: null,
      created_at: '2026-11-22T10:00:00.000Z',
      updated_at: '2026-11-22T10:00:41.512Z',
      job: { id: 'jq4w8e2r6t0y3u5i', action: 'create', status: 'succeeded', href: '/api/jobs/jq4w8e2r6t0y3u5i' },
    },
  });
export type Resource = z.infer<typeof Resource>;

export const Job = z
  .object({
    id: JobId,
    resource_id: ResourceId,
    action: JobAction,
    status: JobStatus,
    attempts: z.int().meta({ description: 'Times a worker has started this job.' }),
    max_attempts: z.int(),
    progress: JobProgress,
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
    updated_at: Timestamp,
    result: JobResult.optional(),
    error: JobError.optional(),
    href: z.string(),
    log_href: z.string(),
  })
  .meta({ id: 'Job',
    example: {
      id: 'jq4w8e2r6t0y3u5i',
      resource_id: 'k3v9q2m8x1c4b7n0',
      action: 'create',
      status: 'succeeded',
      attempts: 1,
      max_attempts: 3,
      progress: { completed: 5, total: 5 },
      created_at: '2026-11-22T10:00:00.000Z',
      started_at: '2026-11-22T10:00:00.020Z',
      finished_at: '2026-11-22T10:00:41.512Z',
      updated_at: '2026-11-22T10:00:41.512Z',
      result: {
        outputs: { resource_id: 'k3v9q2m8x1c4b7n0', private_ips: ['10.0.1.17'], instance_ids: ['i-0abc123def4567890'] },
        changes: { add: 5, change: 0, remove: 0 },
        duration_ms: 41492,
      },
      href: '/api/jobs/jq4w8e2r6t0y3u5i',
      log_href: '/api/jobs/jq4w8e2r6t0y3u5i/log',
    },
  });
export type Job = z.infer<typeof Job>;
