// Jobs, the changes to a stack: their actions and statuses, what they
// produced (outputs, change counts, progress) and how they failed.
import { z } from 'zod';
import { JOB_ERRORS } from '../errors.ts';
import { JobId, ProjectName, StackId, TemplateRef, Timestamp } from './identifiers.ts';
import { Plan } from './plans.ts';
import { JobPolicy } from './policy-results.ts';

export const JOB_ACTIONS = ['create', 'update', 'delete', 'plan'] as const;
export const JobAction = z.enum(JOB_ACTIONS).meta({
  id: 'JobAction',
  description:
    '`create`, `update` and `delete` apply and destroy the stack (an update plans first, and waits ' +
    '`planned` for approval unless `auto_apply`); `plan` is a speculative plan that changes nothing.',
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
    '`planned`: an update waits for `POST /api/jobs/{jobId}/apply` or `/discard`; `policy_failed`: a ' +
    'soft-mandatory policy failed on its plan, which waits for `POST /api/jobs/{jobId}/override` or ' +
    '`/discard`; `discarded`: its plan was not applied.',
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
        "What happened and what to do. Never the SDK's or the file system's own error text: that is in " +
        "the worker's log.",
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

export const JobProgress = z.object({ completed: z.int(), total: z.int().nullable() }).meta({
  id: 'JobProgress',
  description: 'Resource operations done, of those planned (null until the plan is known).',
});
export type JobProgress = z.infer<typeof JobProgress>;

export const JobRef = z
  .object({ id: JobId, action: JobAction, status: JobStatus, href: z.string() })
  .meta({ id: 'JobRef', description: "The resource's current or last job." });

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
    created_by: z
      .string()
      .nullable()
      .meta({
        description:
          "Who asked for the job: the API token's name, or the OIDC token's `sub`; null for a job " +
          "tfcompute started itself (a drift check, a stack's ttl) or one recorded before jobs named who " +
          'asked.',
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
