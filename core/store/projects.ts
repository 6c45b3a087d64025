// Projects: the tenant boundary every stack and job belongs to. A project's
// record holds its description and quota; its live stacks are a set kept by
// the scripts that create and delete stacks (see lua/includes/keys.lua).
import { DEFAULT_PROJECT } from '../access/roles.ts';
import type { Project } from '../schemas/index.ts';
import { type ContextOf, nowArgs } from './context.ts';
import { parse, type ProjectDelete } from './outcomes.ts';
import { auditInMulti, auditRecord, type AuditNote } from './audit.ts';

export type ProjectQuota = { max_stacks?: number | null | undefined; max_running_jobs?: number | null | undefined };

type ProjectChange = { description?: string | undefined; quota?: ProjectQuota | undefined };

export class Projects {
  readonly #c: ContextOf<'redis' | 'keys' | 'scripts' | 'audit'>;

  constructor(context: ContextOf<'redis' | 'keys' | 'scripts' | 'audit'>) {
    this.#c = context;
  }

  // False when a project of that name exists.
  async create(name: string, description: string, quota: ProjectQuota, audit?: AuditNote): Promise<boolean> {
    const { keys, scripts } = this.#c;
    const reply = await scripts.run('create-project', [keys.project(name), keys.projects], {
      name,
      description,
      maxStacks: quota.max_stacks ?? undefined,
      maxRunningJobs: quota.max_running_jobs ?? undefined,
      now: nowArgs().now,
      audit: auditRecord(this.#c, audit),
    });
    return parse.createProject(reply);
  }

  async get(name: string): Promise<Project | undefined> {
    const { redis, keys } = this.#c;
    const replies = await redis.multi().hgetall(keys.project(name)).scard(keys.projectLive(name)).exec();
    const [[, hash], [, live]] = (replies ?? []) as [[unknown, Record<string, string>], [unknown, number]];
    if (hash.name === undefined) return undefined;
    return toProject(hash, live);
  }

  async exists(name: string): Promise<boolean> {
    return name === DEFAULT_PROJECT || (await this.#c.redis.exists(this.#c.keys.project(name))) === 1;
  }

  // Every project's name, in lexical order.
  async names(): Promise<string[]> {
    return this.#c.redis.zrange(this.#c.keys.projects, '-', '+', 'BYLEX');
  }

  // The named projects that exist, in the order given.
  async getMany(names: readonly string[]): Promise<Project[]> {
    const found = await Promise.all(names.map((name) => this.get(name)));
    return found.filter((project): project is Project => project !== undefined);
  }

  // Changes the description and replaces the quota (a limit left out is
  // lifted); false when there is no such project.
  async update(name: string, change: ProjectChange, audit?: AuditNote): Promise<boolean> {
    const { redis, keys } = this.#c;
    const key = keys.project(name);
    // WATCH: a project deleted meanwhile is not brought back as a husk.
    await redis.watch(key);
    if ((await redis.exists(key)) === 0) {
      await redis.unwatch();
      return false;
    }
    const multi = redis.multi().hset(key, 'updated_at', nowArgs().now);
    if (change.description !== undefined) multi.hset(key, 'description', change.description);
    if (change.quota !== undefined) {
      for (const field of ['max_stacks', 'max_running_jobs'] as const) {
        const value = change.quota[field];
        if (value === undefined || value === null) multi.hdel(key, field);
        else multi.hset(key, field, String(value));
      }
    }
    auditInMulti(this.#c, multi, audit, name, { type: 'project', id: name });
    return (await multi.exec()) !== null;
  }

  async delete(name: string, audit?: AuditNote): Promise<ProjectDelete> {
    const { keys, scripts } = this.#c;
    const projectKeys = [
      keys.project(name),
      keys.projects,
      keys.projectLive(name),
      keys.projectWebhooks(name),
      keys.projectPolicies(name),
      keys.policyIndex,
    ];
    const reply = await scripts.run('delete-project', projectKeys, { name, audit: auditRecord(this.#c, audit) });
    return parse.deleteProject(reply);
  }
}

function toProject(hash: Record<string, string>, live: number): Project {
  const limit = (value: string | undefined) => (value === undefined || value === '' ? null : Number(value));
  return {
    name: hash.name ?? '',
    description: hash.description ?? '',
    quota: { max_stacks: limit(hash.max_stacks), max_running_jobs: limit(hash.max_running_jobs) },
    live_stacks: live,
    created_at: hash.created_at ?? '',
    updated_at: hash.updated_at ?? '',
    href: `/api/projects/${hash.name ?? ''}`,
  };
}
