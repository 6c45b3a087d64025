// Policies: guardrails checked on a job's plan before anything is applied
// (a CEL rule, a message, an enforcement level), and what a job records of
// their evaluation.
import { z } from 'zod';
import { ProjectName, TemplateName } from './identifiers.ts';
import { JobAction } from './jobs.ts';
import { Enforcement, PolicyId } from './policy-results.ts';

const Timestamp = z.iso.datetime();

const Name = z.string().trim().min(1).max(100);
const Description = z.string().max(500);
export const Rule = z
  .string()
  .min(1)
  .max(4096)
  .meta({
    description:
      'A CEL expression that must evaluate to `true` for the policy to pass. Its variables: `stack` (`id`, ' +
      '`project`, `template`, `inputs` without sensitive values, `created_by`), `action`, `actor` (`name`, ' +
      '`kind`), `plan` (`add`, `change`, `destroy`, `replace`, `resources`: each `address`, `type`, ' +
      '`action`, `after`). It must compile and type-check against them.',
    example: 'stack.project != "dev" || stack.inputs.node_count <= 3',
  });
const Message = z
  .string()
  .trim()
  .min(1)
  .max(1000)
  .meta({ description: 'What the user is told when the rule does not hold.' });
const Templates = z
  .array(TemplateName)
  .min(1)
  .max(50)
  .meta({ description: 'The templates whose stacks it applies to; all when absent.' });
const Actions = z.array(JobAction).min(1).max(4).meta({ description: 'The jobs it applies to; all when absent.' });

export const PolicyCreateRequest = z
  .strictObject({
    name: Name,
    description: Description.optional(),
    enforcement: Enforcement,
    project: ProjectName.optional().meta({
      description: "The project whose jobs it checks; without it, every project's (owners only).",
    }),
    templates: Templates.optional(),
    actions: Actions.optional(),
    rule: Rule,
    message: Message,
  })
  .meta({ id: 'PolicyCreateRequest' });
export type PolicyCreateRequest = z.infer<typeof PolicyCreateRequest>;

export const PolicyUpdateRequest = z
  .strictObject({
    name: Name.optional(),
    description: Description.optional(),
    enforcement: Enforcement.optional(),
    templates: Templates.nullable().optional().meta({ description: 'null: every template.' }),
    actions: Actions.nullable().optional().meta({ description: 'null: every action.' }),
    rule: Rule.optional(),
    message: Message.optional(),
  })
  .meta({ id: 'PolicyUpdateRequest', description: 'The fields to change; a policy stays in its project.' });
export type PolicyUpdateRequest = z.infer<typeof PolicyUpdateRequest>;

export const Policy = z
  .object({
    id: PolicyId,
    name: z.string(),
    description: z.string(),
    enforcement: Enforcement,
    project: ProjectName.nullable().meta({ description: 'null: every project.' }),
    templates: z.array(TemplateName).nullable().meta({ description: 'null: every template.' }),
    actions: z.array(JobAction).nullable().meta({ description: 'null: every action.' }),
    rule: z.string(),
    message: z.string(),
    created_by: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
    href: z.string(),
  })
  .meta({
    id: 'Policy',
    example: {
      id: 'p4w8e2r6t0y3u5i7',
      name: 'at most three nodes in dev',
      description: '',
      enforcement: 'soft-mandatory',
      project: 'dev',
      templates: ['ec2instance'],
      actions: ['create', 'update'],
      rule: 'stack.inputs.node_count <= 3',
      message: 'dev stacks have at most 3 nodes; ask a platform admin for an override',
      created_by: 'platform',
      created_at: '2026-11-22T10:00:00.000Z',
      updated_at: '2026-11-22T10:00:00.000Z',
      href: '/api/policies/p4w8e2r6t0y3u5i7',
    },
  });
export type Policy = z.infer<typeof Policy>;

export const PolicyList = z.object({ items: z.array(Policy) }).meta({ id: 'PolicyList' });
export const PolicyListQuery = z.strictObject({
  project: ProjectName.optional().meta({
    description: "The policies that apply to this project's jobs: its own and every project's.",
  }),
});

export const OverrideRequest = z
  .strictObject({ reason: z.string().trim().min(1).max(1000) })
  .meta({ id: 'OverrideRequest' });
