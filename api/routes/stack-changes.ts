// /api/{template}/{id}: changing a stack, destroying it, retrying what
// failed, and planning it. Each queues a job; with Prefer: wait the answer
// waits for it.
import { problem, json, type Route, route } from '../route.ts';
import { Job, Stack, StackIdParams, UpdateRequest } from '../../core/schemas/index.ts';
import type { Template } from '../../core/templates/index.ts';
import {
  deleteStack,
  type LifecycleDeps,
  planStack,
  retryStack,
  updateStack,
  withLatestVersion,
} from '../../core/lifecycle/index.ts';
import { stackFor } from '../access.ts';
import { auditOf } from '../audit.ts';
import { isFinished, isJobFinished, isJobSettled, type UseCaseDeps } from '../wait.ts';
import { badId, jobLocationHeader, PreferHeader, preferenceApplied, unavailable } from './common.ts';
import { notFound, pascalCase } from './stacks.ts';
import { preferredWaits } from './stack-wait.ts';

const tooLow = (role: string) =>
  problem(`The caller's role in the stack's project is below ${role} (\`insufficient-role\`).`);

export function stackChangeRoutes(
  deps: LifecycleDeps & Pick<UseCaseDeps, 'waiter'> & { shutdown: AbortSignal },
  template: Template,
): Route[] {
  const STACKS_PATH = `/api/${template.name}`;
  const TAG = template.name;
  const noun = pascalCase(template.name);
  const show = (stack: Stack) => withLatestVersion(stack, template);
  const { maybeWait, maybeWaitForJob } = preferredWaits(deps);

  return [
    route({
      method: 'patch',
      path: `${STACKS_PATH}/{id}`,
      operationId: `update${noun}`,
      audit: { action: 'stack.update', target: 'stack', param: 'id' },
      tags: [TAG],
      summary: 'Change a stack',
      description:
        "Merges `inputs` into the stack's inputs (RFC 7396: null removes a key, which falls back to the variable's " +
        'default), checks the result against the template as served now, and queues an `update` job: `terraform ' +
        'plan` with the new inputs. A plan with no changes finishes at once and the stack takes the inputs; with ' +
        '`auto_apply` the plan is applied at once; otherwise the job waits `planned` until `POST ' +
        '/api/jobs/{jobId}/apply` or `/discard`. The stack keeps its inputs until the update succeeds. Only a ' +
        '`ready` or `update_failed` stack can be changed.',
      request: {
        params: StackIdParams,
        headers: PreferHeader,
        body: {
          required: true,
          content: {
            'application/merge-patch+json': { schema: UpdateRequest },
            'application/json': { schema: UpdateRequest },
          },
        },
      },
      responses: {
        202: { ...json('Accepted; the resource is `updating`.', Stack), headers: preferenceApplied },
        200: {
          ...json(
            'With `Prefer: wait`: the update finished, or its plan waits for approval (see `job.status`).',
            Stack,
          ),
          headers: preferenceApplied,
        },
        400: problem('Invalid body, or merged inputs the template does not accept (each field named).'),
        403: tooLow('plan (write for `auto_apply`)'),
        404: notFound,
        409: problem('The stack is not `ready` or `update_failed`.'),
        415: problem('Body is not application/json or application/merge-patch+json.'),
        503: unavailable,
      },
      // The plan role plans; applying without an approval is a write. The
      // role is checked before the body, so a caller without it learns nothing.
      async authorize(req, { params }) {
        const autoApply = (req.body as { auto_apply?: unknown } | undefined)?.auto_apply === true;
        await stackFor(deps, req, template.name, params.id, autoApply ? 'write' : 'plan');
      },
      async handle(req, res, { params: { id }, body }) {
        const change = { inputs: body.inputs, autoApply: body.auto_apply };
        const stack = await updateStack(deps, template.name, id, change, auditOf(req));
        const final = await maybeWait(req, res, stack);
        res.status(isJobSettled(final.job.status) ? 200 : 202).json(show(final));
      },
    }),
    route({
      method: 'delete',
      path: `${STACKS_PATH}/{id}`,
      operationId: `delete${noun}`,
      audit: { action: 'stack.delete', target: 'stack', param: 'id' },
      tags: [TAG],
      summary: 'Destroy a stack',
      description:
        'Queues a delete job (`terraform destroy`, then the workspace is deleted). It runs after the job already ' +
        'running for the resource; a create that has not started yet is cancelled instead. Repeating the request ' +
        'while it is deleting returns the same job.',
      request: { params: StackIdParams, headers: PreferHeader },
      responses: {
        202: { ...json('Accepted; the resource is `deleting`.', Stack), headers: preferenceApplied },
        200: {
          ...json(
            'The delete finished (with `Prefer: wait`), the create had not started and was cancelled, or the ' +
              'resource was already deleted.',
            Stack,
          ),
          headers: preferenceApplied,
        },
        400: badId,
        403: tooLow('write'),
        404: notFound,
        503: unavailable,
      },
      async handle(req, res, { params: { id } }) {
        await stackFor(deps, req, template.name, id, 'write');
        const { stack } = await deleteStack(deps, template.name, id, auditOf(req));
        const final = await maybeWait(req, res, stack);
        res.status(isFinished(final) ? 200 : 202).json(show(final));
      },
    }),
    route({
      method: 'post',
      path: `${STACKS_PATH}/{id}/retry`,
      operationId: `retry${noun}`,
      audit: { action: 'stack.retry', target: 'stack', param: 'id' },
      tags: [TAG],
      summary: 'Retry a failed create or update',
      description:
        'A `failed` stack: runs `terraform apply` again, with the same inputs, in the workspace the failed create ' +
        'left, with the template as served now: the inputs are checked against that version first, and the ' +
        'resource takes it. An `update_failed` stack: queues its failed update again (the same inputs, checked ' +
        'against the template as served now, planned afresh against what the failed apply left, applied at once ' +
        'only if that update was). A failed delete is retried with DELETE.',
      request: { params: StackIdParams, headers: PreferHeader },
      responses: {
        202: {
          ...json('Accepted; the resource is `creating` (or `updating`) again.', Stack),
          headers: preferenceApplied,
        },
        200: {
          ...json(
            'With `Prefer: wait`: the retry finished, or its plan waits for approval (see `status` and `job.status`).',
            Stack,
          ),
          headers: preferenceApplied,
        },
        400: badId,
        403: tooLow('write'),
        404: notFound,
        409: problem(
          'The resource is not `failed` or `update_failed`, or its inputs do not satisfy its template as served now.',
        ),
        503: unavailable,
      },
      async handle(req, res, { params: { id } }) {
        await stackFor(deps, req, template.name, id, 'write');
        const stack = await retryStack(deps, template.name, id, auditOf(req));
        const final = await maybeWait(req, res, stack);
        res.status(isJobSettled(final.job.status) ? 200 : 202).json(show(final));
      },
    }),
    route({
      method: 'post',
      path: `${STACKS_PATH}/{id}/plan`,
      operationId: `plan${noun}`,
      audit: { action: 'stack.plan', target: 'stack', param: 'id' },
      tags: [TAG],
      summary: 'Plan a stack (speculative)',
      description:
        "Queues a plan-only job: `terraform plan` with the stack's inputs and the template as served now, after the " +
        "stack's other jobs. Its `plan` shows what an apply would change now: changes made outside Terraform that " +
        'the refresh found (`drift`) and changes of the configuration alike. It never applies, and never changes ' +
        "the stack's inputs or status. Only a `ready` stack can be planned.",
      request: { params: StackIdParams, headers: PreferHeader },
      responses: {
        202: {
          ...json('Accepted; the plan job is queued.', Job),
          headers: { ...jobLocationHeader, ...preferenceApplied },
        },
        200: {
          ...json('With `Prefer: wait`: the plan job finished (see `status` and `plan`).', Job),
          headers: { ...jobLocationHeader, ...preferenceApplied },
        },
        400: badId,
        403: tooLow('plan'),
        404: notFound,
        409: problem('The stack is not `ready`.'),
        503: unavailable,
      },
      async handle(req, res, { params: { id } }) {
        await stackFor(deps, req, template.name, id, 'plan');
        const job = await planStack(deps, template.name, id, auditOf(req));
        res.location(job.href);
        const final = await maybeWaitForJob(req, res, job);
        res.status(isJobFinished(final.status) ? 200 : 202).json(final);
      },
    }),
  ];
}
