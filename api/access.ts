// Authorization: what the caller may do in the project an object belongs to.
// A caller with no role there is told what a caller asking for an id that
// does not exist is told, so it cannot learn what other projects hold; one
// whose role is too low is told which role it needs.
import type { Request } from 'express';
import { allows, DEFAULT_PROJECT, type Principal, type Role, roleIn, seesEveryProject } from '../core/access/roles.ts';
import { AppError, projectNotFound } from '../core/errors.ts';
import { getJob, getStack } from '../core/lifecycle/index.ts';
import { type Job, ProjectName, type Stack, WebhookId } from '../core/schemas/index.ts';
import { EVERY_PROJECT, INSTALLATION, type Store, type WebhookRecord } from '../core/store/index.ts';
import { denial } from './audit.ts';
import { principalOf } from './principal.ts';
import { parseParam } from './validate.ts';
import { webhookNotFound } from '../core/webhooks/manage.ts';

// Throws `notFound` when the caller has no role in `project`, and 403
// insufficient-role when it has one below `needed`; the audit log records
// both as refusals (see audit.ts).
export function requireRole(principal: Principal, project: string, needed: Role, notFound: () => AppError): void {
  const role = roleIn(principal, project);
  if (role === undefined) throw denial(notFound(), INSTALLATION);
  if (!allows(role, needed)) {
    throw denial(
      new AppError(
        'insufficient-role',
        `this needs the ${needed} role in project "${project}"; "${principal.name}" has ${role}`,
      ),
      project,
    );
  }
}

// The stack, if the caller has `needed` in its project; `template`
// undefined: a stack of any template (the console's pages).
export async function stackFor(
  deps: { store: Store },
  req: Request,
  template: string | undefined,
  id: string,
  needed: Role,
): Promise<Stack> {
  const stack = await getStack(deps, id, template);
  requireRole(
    principalOf(req),
    stack.project,
    needed,
    () =>
      new AppError('resource-not-found', `no ${template === undefined ? '' : `${template} `}resource with id ${id}`),
  );
  return stack;
}

// The job, if the caller has `needed` in its project.
export async function jobFor(deps: { store: Store }, req: Request, jobId: string, needed: Role): Promise<Job> {
  const job = await getJob(deps, jobId);
  requireRole(principalOf(req), job.project, needed, () => new AppError('job-not-found', `no job with id ${jobId}`));
  return job;
}

// Where a create goes: `?project=`, or the caller's one project (which may
// not exist: the create then answers the 404 of an unknown project). Callers
// with a role on every project (legacy tokens, owners) create in the
// default project unless they name one, so scripts from before projects
// work unchanged.
export function targetProject(req: Request, named: string | undefined, needed: Role): string {
  const principal = principalOf(req);
  let project = named;
  if (project === undefined) {
    const granted = [...principal.grants.keys()];
    if (seesEveryProject(principal)) project = DEFAULT_PROJECT;
    else if (granted.length === 1) project = granted[0] as string;
    else
      throw new AppError(
        'project-required',
        `"${principal.name}" has roles in ${granted.length} projects (${granted.join(', ')}); name one with ?project=`,
      );
  }
  const target = project;
  requireRole(principal, target, needed, () => projectNotFound(target));
  // Whether it exists is the create script's to say (one round trip).
  return target;
}

// The projects whose stacks a list shows: `named` only, or every project the
// caller can read (undefined: every project there is).
export function readableProjects(principal: Principal, named: string | undefined): string[] | undefined {
  if (named !== undefined) {
    requireRole(principal, named, 'read', () => projectNotFound(named));
    return [named];
  }
  if (seesEveryProject(principal)) return undefined;
  return [...principal.grants.keys()];
}

// Admins of every project: owners and API_TOKENS write entries. They alone
// see and change every-project webhooks.
export function isInstallationAdmin(principal: Principal): boolean {
  return principal.owner || principal.everyProject === 'admin';
}

// A webhook is its project's admins' to see and change, reading included
// (receiver URLs can carry secrets); an every-project one, installation
// admins'. Anyone else is told what an unknown id gets.
export function requireWebhookAdmin(principal: Principal, project: string, notFound: () => AppError): void {
  if (project !== EVERY_PROJECT) {
    requireRole(principal, project, 'admin', notFound);
    return;
  }
  if (!isInstallationAdmin(principal)) throw denial(notFound(), INSTALLATION);
}

// The projects the caller is an admin of, by its grants.
export function administered(principal: Principal): string[] {
  return [...principal.grants.keys()].filter((project) => roleIn(principal, project) === 'admin');
}

// Where a new webhook goes: `?project=`; without it, every project for an
// installation admin (as its webhooks did before projects), or the one
// project the caller is an admin of; otherwise as targetProject decides
// (400 project-required, or 403 where it is no admin).
export function webhookProject(req: Request, named: string | undefined): string {
  const principal = principalOf(req);
  if (named === undefined && isInstallationAdmin(principal)) return EVERY_PROJECT;
  const mine = administered(principal);
  return targetProject(req, named ?? (mine.length === 1 ? mine[0] : undefined), 'admin');
}

// The projects whose webhooks a list shows: `named` only, or every project
// the caller is an admin of (undefined: every webhook, every-project ones
// included, for installation admins). An admin of none is told the role.
export function administeredProjects(principal: Principal, named: string | undefined): string[] | undefined {
  if (named !== undefined) {
    requireRole(principal, named, 'admin', () => projectNotFound(named));
    return [named];
  }
  if (isInstallationAdmin(principal)) return undefined;
  const mine = administered(principal);
  if (mine.length === 0)
    throw new AppError(
      'insufficient-role',
      `webhooks are seen by their project's admins; "${principal.name}" is an admin of no project`,
    );
  return mine;
}

// The project a path names, or the 400 of a malformed name.
export function projectParam(value: unknown): string {
  return parseParam('project', ProjectName, value);
}

// The webhook of this id, if the principal administers it (the console's
// webhook pages ask this too).
export async function administeredWebhook(
  deps: { store: Store },
  principal: Principal,
  value: unknown,
): Promise<WebhookRecord> {
  const webhookId = parseParam('webhookId', WebhookId, value);
  const webhook = await deps.store.webhooks.get(webhookId);
  if (!webhook) throw webhookNotFound(webhookId);
  requireWebhookAdmin(principal, webhook.project, () => webhookNotFound(webhookId));
  return webhook;
}
