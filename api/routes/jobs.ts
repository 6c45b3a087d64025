// /api/jobs: a job's record, its Terraform log (plain text, or followed live
// as Server-Sent Events), and cancelling it.
import { z } from 'zod';
import type { LifecycleDeps } from '../../core/lifecycle/index.ts';
import { Job, JobIdParams, OverrideRequest } from '../../core/schemas/index.ts';
import { json, problem, type Route, route } from '../route.ts';
import { approvePlan, cancelJob, discardPlan, overridePolicies } from '../../core/lifecycle/index.ts';
import { jobFor } from '../access.ts';
import { auditOf } from '../audit.ts';
import { streamLog } from '../log-stream.ts';
import { isJobFinished, type UseCaseDeps } from '../wait.ts';
import { badId, unavailable } from './common.ts';

const TAG = 'jobs';
const notFound = problem(
  'No job with this id, or none the caller has a role in its project to see: both answer alike.',
);
const tooLow = problem("The caller's role in the job's project is below write (`insufficient-role`).");
// What applying, discarding or cancelling a job answers when it is refused.
const changeRefusals = { 400: badId, 403: tooLow, 404: notFound, 503: unavailable };

export function jobRoutes(deps: LifecycleDeps & Pick<UseCaseDeps, 'waiter'> & { shutdown: AbortSignal }): Route[] {
  const notPlanned = problem('The job is not a `planned` update.');
  return [
    route({
      method: 'post',
      path: '/api/jobs/{jobId}/apply',
      operationId: 'applyJob',
      audit: { action: 'job.apply', target: 'job', param: 'jobId' },
      tags: [TAG],
      summary: "Apply a planned update's plan",
      description:
        'Approves the plan of a `planned` update: the job is queued again and applies exactly that saved plan. If ' +
        "the stack's state changed after the plan was made, Terraform refuses it: the job fails saying the plan is " +
        'stale, nothing is changed, and the stack can be changed again with PATCH.',
      request: { params: JobIdParams },
      responses: {
        202: json('Approved; the job is `queued` to apply.', Job),
        409: notPlanned,
        ...changeRefusals,
      },
      async handle(req, res, { params: { jobId } }) {
        await jobFor(deps, req, jobId, 'write');
        res.status(202).json(await approvePlan(deps, jobId, auditOf(req)));
      },
    }),
    route({
      method: 'post',
      path: '/api/jobs/{jobId}/override',
      operationId: 'overrideJobPolicies',
      audit: { action: 'job.override', target: 'job', param: 'jobId' },
      tags: [TAG],
      summary: 'Override the soft-mandatory policies that stopped a job',
      description:
        'For a job in `policy_failed` (a soft-mandatory policy failed on its plan): the job is queued again and ' +
        "applies exactly the plan the policies were evaluated on. Only an admin of the job's project (or an owner) " +
        "may; `policy.override` records who, why and when, as does the audit log. If the stack's state changed " +
        'after the plan was made, Terraform refuses it: the job fails saying the plan is stale, and nothing is ' +
        'changed.',
      request: {
        params: JobIdParams,
        body: { content: { 'application/json': { schema: OverrideRequest } }, required: true },
      },
      responses: {
        202: json('Overridden; the job is `queued` to apply its plan.', Job),
        400: problem('The id or the body is not valid (a `reason` is required).'),
        403: problem("The caller's role in the job's project is below admin (`insufficient-role`)."),
        404: notFound,
        409: problem('The job is not `policy_failed`.'),
        503: unavailable,
      },
      authorize: (req, { params }) => jobFor(deps, req, params.jobId, 'admin'),
      async handle(req, res, { params: { jobId }, body: { reason } }) {
        res.status(202).json(await overridePolicies(deps, jobId, reason, auditOf(req)));
      },
    }),
    route({
      method: 'post',
      path: '/api/jobs/{jobId}/discard',
      operationId: 'discardJob',
      audit: { action: 'job.discard', target: 'job', param: 'jobId' },
      tags: [TAG],
      summary: "Discard a planned update's plan, or a job a policy stopped",
      description:
        'Ends a `planned` update, or a job in `policy_failed`, without applying it (`discarded`): the stack keeps ' +
        'its inputs and returns to the status it had before (a create stopped by a policy leaves it `failed`, to ' +
        'be deleted or retried).',
      request: { params: JobIdParams },
      responses: {
        200: json('The job is `discarded`.', Job),
        409: problem('The job is not a `planned` update nor `policy_failed`.'),
        ...changeRefusals,
      },
      async handle(req, res, { params: { jobId } }) {
        await jobFor(deps, req, jobId, 'write');
        res.json(await discardPlan(deps, jobId, auditOf(req)));
      },
    }),
    route({
      method: 'get',
      path: '/api/jobs/{jobId}',
      operationId: 'getJob',
      tags: [TAG],
      summary: 'Get a job',
      description: 'The job with its status, attempts, progress, and its result or error once it has finished.',
      request: { params: JobIdParams },
      responses: { 200: json('The job, with its result or error.', Job), 400: badId, 404: notFound, 503: unavailable },
      async handle(req, res, { params }) {
        res.json(await jobFor(deps, req, params.jobId, 'read'));
      },
    }),
    route({
      method: 'get',
      path: '/api/jobs/{jobId}/log',
      operationId: 'getJobLog',
      tags: [TAG],
      summary: "Get a job's Terraform output, or follow it live",
      description:
        'Plain text by default. With `Accept: text/event-stream`, Server-Sent Events: `log` events (each line a ' +
        '`data:` line; the `id` is the byte offset, so a client that reconnects with `Last-Event-ID` resumes where ' +
        'it was) while the job runs, then one `end` event whose data is `{"status": "..."}` once it has finished ' +
        'or waits for approval (`planned`; follow the apply with a new request and `Last-Event-ID`).',
      request: { params: JobIdParams },
      responses: {
        200: {
          description: "Terraform's output, without colour codes.",
          content: {
            'text/plain': { schema: z.string().meta({ example: 'terraform_data.instance[0]: Creating...' }) },
            'text/event-stream': {
              schema: z.string().meta({
                example:
                  'id: 43\nevent: log\ndata: terraform_data.instance[0]: Creating...\n\nevent: end\ndata: ' +
                  '{"status":"succeeded"}\n\n',
              }),
            },
          },
        },
        400: badId,
        404: notFound,
        503: unavailable,
      },
      async handle(req, res, { params: { jobId } }) {
        await jobFor(deps, req, jobId, 'read');
        if (req.accepts(['text/plain', 'text/event-stream']) === 'text/event-stream') {
          await streamLog(deps, req, res, jobId, { from: 0, lines: (text) => text.split(/\r\n|\r|\n/) });
          return;
        }
        const log = await deps.store.logs.get(jobId);
        res.type('text/plain; charset=utf-8').send(log);
      },
    }),
    route({
      method: 'post',
      path: '/api/jobs/{jobId}/cancel',
      operationId: 'cancelJob',
      audit: { action: 'job.cancel', target: 'job', param: 'jobId' },
      tags: [TAG],
      summary: 'Cancel a job',
      description:
        'A queued job is removed at once (200, `cancelled`). A running one is interrupted: Terraform gets one ' +
        'SIGINT, stops after the operations in flight, saves state and releases its lock, and is killed if it has ' +
        'not stopped after the grace period (202, still `running` until it has). A cancelled create leaves the ' +
        'resource `failed`, a cancelled delete `delete_failed`; DELETE then destroys whatever was made.',
      request: { params: JobIdParams },
      responses: {
        200: json('The job was queued and is now `cancelled`.', Job),
        202: json('The job is running; its worker is stopping Terraform.', Job),
        409: problem('The job has already finished.'),
        ...changeRefusals,
      },
      async handle(req, res, { params: { jobId } }) {
        await jobFor(deps, req, jobId, 'write');
        const job = await cancelJob(deps, jobId, auditOf(req));
        res.status(isJobFinished(job.status) ? 200 : 202).json(job);
      },
    }),
  ];
}
