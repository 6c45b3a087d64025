// What Terraform would change: a plan's resource instances and counts, and
// drift, the plan of a stack against what is really there. Jobs report
// plans (jobs.ts); stacks carry their drift (stacks.ts).
import { z } from 'zod';
import { JobId, Timestamp } from './identifiers.ts';

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
    '`in_sync`: applying the stack now would change nothing; `drifted`: it would (something changed ' +
    'outside Terraform, or the template did); `unknown`: not checked yet.',
});
export type DriftStatus = z.infer<typeof DriftStatus>;

// What a plan or an apply found out; `unknown` is the absence of one.
export type DriftFinding = { status: Exclude<DriftStatus, 'unknown'>; resources: PlannedChange[] };

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
      'Whether the stack matches its configuration, from its last plan or apply. With ' +
      '`DRIFT_CHECK_INTERVAL` set, every `ready` stack is planned on that schedule.',
  });
export type Drift = z.infer<typeof Drift>;
