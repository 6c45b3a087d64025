// The domain: stacks (resources), their inputs and outputs, and the jobs
// that change them. The API answers with these shapes and the store records them.
import { z } from 'zod';
import { PROJECT_NAME } from '../access/roles.ts';
import { JOB_ERRORS } from '../errors.ts';
import { ID_PATTERN, ID_PATTERN_SOURCE } from '../ids.ts';
import { JobPolicy } from './policy-results.ts';

export const StackId = z.string().regex(ID_PATTERN, 'must be 16 characters of 0-9 and a-z').meta({
  description: 'Resource id; also the Terraform workspace name.',
  example: 'k3v9q2m8x1c4b7n0',
  pattern: ID_PATTERN_SOURCE,
});

export const JobId = z
  .string()
  .regex(ID_PATTERN, 'must be 16 characters of 0-9 and a-z')
  .meta({ description: 'Job id.', example: 'jq4w8e2r6t0y3u5i', pattern: ID_PATTERN_SOURCE });

// Webhook and delivery ids: a job id's shape, each with its own first letter.
const LETTERED_ID = (letter: string, what: string) =>
  z
    .string()
    .regex(new RegExp(`^${letter}[0-9a-z]{15}$`), `must be "${letter}" and 15 characters of 0-9 and a-z`)
    .meta({ description: `${what} id.`, example: `${letter}k3v9q2m8x1c4b7n` });

export const ProjectName = z
  .string()
  .regex(PROJECT_NAME, 'must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit')
  .meta({
    description: 'The project: the tenant boundary. Every stack, job and webhook belongs to one.',
    example: 'payments',
  });

export const WebhookId = LETTERED_ID('w', 'Webhook');
export const DeliveryId = LETTERED_ID('d', 'Delivery');

export const TemplateName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/)
  .meta({ description: "A template's name: its directory's name and its route, /api/{name}.", example: 'ec2instance' });

export const TemplateRef = z
  .object({
    name: TemplateName,
    version: z.string().meta({
      description: "A hash of the template's files (and the local modules they use).",
      example: '3f9c2a1b7d4e5f60',
    }),
  })
  .meta({
    id: 'TemplateRef',
    description:
      "A template and a version of it. A stack's: the version its inputs were last validated against. A job's: the version it runs (a create's is its stack's; a retry's or a delete's, the version served when it was requested).",
  });
export type TemplateRef = z.infer<typeof TemplateRef>;

// A stack's inputs: what the caller set and the template's defaults for the
// rest. Sensitive inputs are never among them.
export const StackInputs = z.record(z.string(), z.unknown()).meta({
  id: 'StackInputs',
  description:
    "The stack's Terraform inputs: those set on create, and the template's defaults for the rest. Sensitive inputs are never shown.",
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

export const JOB_ACTIONS = ['create', 'update', 'delete', 'plan'] as const;
export const JobAction = z.enum(JOB_ACTIONS).meta({
  id: 'JobAction',
  description:
    '`create`, `update` and `delete` apply and destroy the stack (an update plans first, and waits `planned` for approval unless `auto_apply`); `plan` is a speculative plan that changes nothing.',
});
export type JobAction = z.infer<typeof JobAction>;

export const JOB_STATUSES = [
  'queued',
  'running',
  'planned',
  'policy_failed',
  'succeeded',
  'failed',
  'cancelled',
  'discarded',
] as const;
export const FINISHED_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'discarded'];
// Where a job stops until someone acts: finished, planned (awaiting approval), or policy_failed (awaiting an override).
export const SETTLED_JOB_STATUSES: readonly JobStatus[] = [...FINISHED_JOB_STATUSES, 'planned', 'policy_failed'];
export const JobStatus = z.enum(JOB_STATUSES).meta({
  id: 'JobStatus',
  description:
    '`planned`: an update waits for `POST /api/jobs/{jobId}/apply` or `/discard`; `policy_failed`: a soft-mandatory policy failed on its plan, which waits for `POST /api/jobs/{jobId}/override` or `/discard`; `discarded`: its plan was not applied.',
});
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

export const JobErrorCode = z
  .enum(Object.keys(JOB_ERRORS) as [keyof typeof JOB_ERRORS, ...Array<keyof typeof JOB_ERRORS>])
  .meta({
    id: 'JobErrorCode',
    description: Object.entries(JOB_ERRORS)
      .map(([code, meaning]) => `\`${code}\`: ${meaning}`)
      .join('\n\n'),
  });

export const JobError = z
  .object({
    // Errors recorded before codes existed are given one as they are read (see store/records.ts).
    code: JobErrorCode,
    message: z.string().meta({
      description:
        "What happened and what to do. Never the SDK's or the file system's own error text: that is in the worker's log.",
    }),
    retryable: z.boolean(),
    diagnostics: z.array(Diagnostic),
  })
  .meta({
    id: 'JobError',
    example: {
      code: 'terraform-failed',
      message: 'terraform apply failed: local-exec provisioner error',
      retryable: false,
      diagnostics: [
        { severity: 'error', summary: 'local-exec provisioner error', detail: 'Error running command ...' },
      ],
    },
  });
export type JobError = z.infer<typeof JobError>;

export const Outputs = z.record(z.string(), z.unknown()).meta({
  id: 'Outputs',
  description: 'Root module outputs, name to value. Sensitive outputs read "[REDACTED]".',
  example: { resource_id: 'k3v9q2m8x1c4b7n0', private_ips: ['10.0.1.17'], instance_ids: ['i-0abc123def4567890'] },
});
export type Outputs = z.infer<typeof Outputs>;

export const ChangeSummary = z.object({ add: z.int(), change: z.int(), remove: z.int() }).meta({ id: 'ChangeSummary' });
export type ChangeSummary = z.infer<typeof ChangeSummary>;

export const JobResult = z
  .object({
    outputs: Outputs.optional().meta({ description: 'The outputs after the apply or destroy; plan jobs have none.' }),
    changes: ChangeSummary,
    duration_ms: z.int(),
  })
  .meta({ id: 'JobResult' });
export type JobResult = z.infer<typeof JobResult>;

// What Terraform's `-json` plan reports for one resource instance. `noop`
// and `read` (a data source) change nothing and are left out.
export const PLANNED_ACTIONS = ['create', 'update', 'replace', 'delete', 'move', 'import', 'remove'] as const;
export const PlannedChange = z
  .object({
    address: z.string().meta({ example: 'terraform_data.node[1]' }),
    action: z.enum(PLANNED_ACTIONS),
  })
  .meta({
    id: 'PlannedChange',
    description: 'A resource instance and what Terraform would do to it (`remove`: forget it, leaving the object).',
  });
export type PlannedChange = z.infer<typeof PlannedChange>;

export const Plan = z
  .object({
    add: z
      .int()
      .meta({ description: 'Resource instances to create, replacements included, as Terraform counts them.' }),
    change: z.int().meta({ description: 'Resource instances to update in place.' }),
    destroy: z.int().meta({ description: 'Resource instances to destroy, replacements included.' }),
    replace: z.int().meta({ description: 'Resource instances to replace (destroy and create again).' }),
    resources: z.array(PlannedChange).meta({ description: 'What applying the plan would change.' }),
    drift: z
      .array(PlannedChange)
      .meta({ description: 'Changes made outside Terraform that the refresh found (`resource_drift`).' }),
  })
  .meta({
    id: 'Plan',
    description: 'What Terraform plans to do, from its `-json` plan messages; never any value, so nothing sensitive.',
    example: {
      add: 2,
      change: 0,
      destroy: 1,
      replace: 1,
      resources: [
        { address: 'aws_instance.node[0]', action: 'replace' },
        { address: 'aws_instance.node[1]', action: 'create' },
      ],
      drift: [],
    },
  });
export type Plan = z.infer<typeof Plan>;

export const DRIFT_STATUSES = ['unknown', 'in_sync', 'drifted'] as const;
export const DriftStatus = z.enum(DRIFT_STATUSES).meta({
  id: 'DriftStatus',
  description:
    '`in_sync`: applying the stack now would change nothing; `drifted`: it would (something changed outside Terraform, or the template did); `unknown`: not checked yet.',
});
export type DriftStatus = z.infer<typeof DriftStatus>;

// What a plan or an apply found out; `unknown` is the absence of one.
export type DriftFinding = { status: Exclude<DriftStatus, 'unknown'>; resources: PlannedChange[] };

export const JobProgress = z.object({ completed: z.int(), total: z.int().nullable() }).meta({
  id: 'JobProgress',
  description: 'Resource operations done, of those planned (null until the plan is known).',
});
export type JobProgress = z.infer<typeof JobProgress>;

const Timestamp = z.iso.datetime().meta({ example: '2026-11-22T10:00:00.000Z' });

export const JobRef = z
  .object({ id: JobId, action: JobAction, status: JobStatus, href: z.string() })
  .meta({ id: 'JobRef', description: "The resource's current or last job." });

export const Drift = z
  .object({
    status: DriftStatus,
    checked_at: Timestamp.nullable().meta({ description: 'When the result was found; null until the first.' }),
    job: z.object({ id: JobId, href: z.string() }).nullable().meta({
      description:
        'The job that found it: a scheduled check or a speculative plan, or the apply that made the stack match.',
    }),
    resources: z.array(PlannedChange).meta({ description: 'What applying the stack now would change.' }),
  })
  .meta({
    id: 'Drift',
    description:
      'Whether the stack matches its configuration, from its last plan or apply. With `DRIFT_CHECK_INTERVAL` set, every `ready` stack is planned on that schedule.',
  });
export type Drift = z.infer<typeof Drift>;

export const StackTemplateRef = TemplateRef.extend({
  latest_version: z.string().optional().meta({
    description:
      "The template's version served now, when it is not the stack's; an update (even with no input changes) moves the stack to it.",
  }),
}).meta({ id: 'StackTemplateRef' });

export const StackState = z
  .object({
    workspace: StackId.meta({ description: "The stack's Terraform workspace: its id." }),
    workspace_key_prefix: z.string().nullable().meta({
      description:
        "The S3 backend's `workspace_key_prefix` the stack's state is under (`tfcompute-stacks/{id}`), so its state object is `{workspace_key_prefix}/{id}/{key}` in the backend's bucket. null: a stack created before stacks had their own prefix, whose state is under the backend's configured `workspace_key_prefix` (`env:` unless set).",
      example: 'tfcompute-stacks/k3v9q2m8x1c4b7n0',
    }),
  })
  .meta({
    id: 'StackState',
    description:
      "Where the stack's Terraform state is: what `terraform init -backend-config=workspace_key_prefix=…` and `terraform workspace select` need to reach it by hand.",
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

export const Job = z
  .object({
    id: JobId,
    resource_id: StackId,
    project: ProjectName,
    action: JobAction,
    status: JobStatus,
    template: TemplateRef,
    attempts: z.int().meta({ description: 'Times a worker has started this job.' }),
    max_attempts: z.int(),
    progress: JobProgress,
    created_at: Timestamp,
    started_at: Timestamp.nullable(),
    finished_at: Timestamp.nullable(),
    updated_at: Timestamp,
    created_by: z.string().nullable().meta({
      description:
        "Who asked for the job: the API token's name, or the OIDC token's `sub`; null for a job tfcompute started itself (a drift check, a stack's ttl) or one recorded before jobs named who asked.",
    }),
    result: JobResult.optional(),
    plan: Plan.optional().meta({ description: 'The plan, once Terraform has made it (plan jobs).' }),
    approved_by: z.string().optional().meta({
      description:
        "An update whose plan was approved: who approved it (the API token's name, or the OIDC token's `sub`).",
    }),
    approved_at: Timestamp.optional().meta({ description: 'When its plan was approved.' }),
    policy: JobPolicy.optional(),
    error: JobError.optional(),
    href: z.string(),
    log_href: z.string(),
  })
  .meta({
    id: 'Job',
    example: {
      id: 'jq4w8e2r6t0y3u5i',
      resource_id: 'k3v9q2m8x1c4b7n0',
      project: 'payments',
      action: 'create',
      status: 'succeeded',
      template: { name: 'ec2instance', version: '3f9c2a1b7d4e5f60' },
      attempts: 1,
      max_attempts: 3,
      progress: { completed: 5, total: 5 },
      created_at: '2026-11-22T10:00:00.000Z',
      started_at: '2026-11-22T10:00:00.020Z',
      finished_at: '2026-11-22T10:00:41.512Z',
      updated_at: '2026-11-22T10:00:41.512Z',
      created_by: 'ci',
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
