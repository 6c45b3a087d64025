// /api/{template}/{id}/jobs: a stack's job history, read as the stack is
// (the read role in its project; anyone else is told it does not exist).
import { JobList, PageQuery, StackIdParams } from '../../core/schemas/index.ts';
import type { Template } from '../../core/templates/index.ts';
import { stackFor } from '../access.ts';
import { json, problem, type Route, route } from '../route.ts';
import type { Store } from '../../core/store/index.ts';
import { unavailable } from './common.ts';
import { notFound, pascalCase } from './stacks.ts';

export function stackJobRoutes(deps: { store: Store }, template: Template): Route[] {
  return [
    route({
      method: 'get',
      path: `/api/${template.name}/{id}/jobs`,
      operationId: `list${pascalCase(template.name)}Jobs`,
      tags: [template.name],
      summary: "List a stack's jobs, newest first",
      description:
        'Every job the stack got (create, retry, update, plan, delete; drift checks included), newest first, each as ' +
        '`GET /api/jobs/{jobId}` shows it, for as long as job records are kept (`JOB_RETENTION_DAYS` after each ' +
        'finished). Stacks recorded before histories existed list only the jobs their record still names (the ' +
        'current or last one, and the one that found their drift) and every job since. Pass `next_cursor` as ' +
        '`cursor` for the next page; a page may hold fewer than `limit` jobs while the ids of expired ones wait to ' +
        'be dropped.',
      request: { params: StackIdParams, query: PageQuery },
      responses: {
        200: json("A page of the stack's jobs.", JobList),
        400: problem('Invalid id, limit or cursor.'),
        404: notFound,
        503: unavailable,
      },
      async handle(req, res, { params, query }) {
        const stack = await stackFor(deps, req, template.name, params.id, 'read');
        const page = await deps.store.jobs.history(stack.id, query);
        res.json({ items: page.items, next_cursor: page.nextCursor });
      },
    }),
  ];
}
