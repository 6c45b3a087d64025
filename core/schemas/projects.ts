// Projects as the API takes and shows them.
import { z } from 'zod';
import { ProjectName } from './identifiers.ts';

const Description = z.string().max(500).meta({ description: 'For people: whose the project is and what it holds.' });

const Quota = z
  .strictObject({
    max_stacks: z
      .int()
      .min(0)
      .max(1_000_000)
      .nullable()
      .optional()
      .meta({
        description:
          'Live (not deleted) stacks the project may hold; a create beyond it is 409 `quota-exceeded`. ' +
          'null or left out: no limit.',
      }),
    max_running_jobs: z
      .int()
      .min(1)
      .max(10_000)
      .nullable()
      .optional()
      .meta({
        description:
          'Jobs of the project that run at once; more wait, and start in the order they asked. null or ' +
          'left out: no limit.',
      }),
  })
  .meta({ id: 'ProjectQuota' });

export const ProjectCreateRequest = z
  .strictObject({ name: ProjectName, description: Description.default(''), quota: Quota.default({}) })
  .meta({
    id: 'ProjectCreateRequest',
    example: { name: 'payments', description: 'The payments team', quota: { max_stacks: 50 } },
  });

export const ProjectUpdateRequest = z
  .strictObject({
    description: Description.optional(),
    quota: Quota.optional().meta({ description: 'Replaces the quota: a limit left out or null is lifted.' }),
  })
  .meta({ id: 'ProjectUpdateRequest', example: { quota: { max_stacks: 100, max_running_jobs: 4 } } });

export const Project = z
  .object({
    name: ProjectName,
    description: z.string(),
    quota: z.object({ max_stacks: z.int().nullable(), max_running_jobs: z.int().nullable() }),
    live_stacks: z.int().meta({ description: 'Stacks of the project that are not deleted.' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    href: z.string(),
  })
  .meta({
    id: 'Project',
    example: {
      name: 'payments',
      description: 'The payments team',
      quota: { max_stacks: 50, max_running_jobs: null },
      live_stacks: 3,
      created_at: '2026-12-01T10:00:00.000Z',
      updated_at: '2026-12-01T10:00:00.000Z',
      href: '/api/projects/payments',
    },
  });
export type Project = z.infer<typeof Project>;

export const ProjectList = z.object({ items: z.array(Project) }).meta({ id: 'ProjectList' });

export const ProjectParams = z.object({ project: ProjectName });

// `?project=`: where a create goes, or what a list shows.
export const ProjectQuery = z.object({
  project: ProjectName.optional().meta({
    description:
      'The project: where a create goes (needed when the caller has grants in more than one), or the ' +
      'only one a list shows.',
  }),
});
