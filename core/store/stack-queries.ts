// Reading stacks: one, its inputs, a page of a list, the ids the worker's
// sweeps walk, and counts. Resources (resources.ts) adds the changes.
import { STACK_STATUSES } from '../schemas/index.ts';
import type { DriftStatus, Stack, StackInputs, StackStatus } from '../schemas/index.ts';
import type { ContextOf } from './context.ts';
import { IndexMember } from './keys.ts';
import { type Page, pageOfMembers } from './pages.ts';
import { toStack } from './records.ts';

// `template`: one template's stacks, or several's, read as one index.
export type ListArgs = {
  template: string | readonly string[];
  status?: StackStatus | undefined;
  drift?: DriftStatus | undefined;
  projects?: readonly string[] | undefined;
  limit: number;
  cursor?: string | undefined;
};

export class StackQueries {
  protected readonly c: ContextOf<'redis' | 'keys' | 'scripts' | 'jobRetentionSeconds' | 'audit'>;

  constructor(context: ContextOf<'redis' | 'keys' | 'scripts' | 'jobRetentionSeconds' | 'audit'>) {
    this.c = context;
  }

  async get(id: string): Promise<Stack | null> {
    const hash = await this.c.redis.hgetall(this.c.keys.stack(id));
    return hash.id === undefined ? null : toStack(hash);
  }

  // The inputs the caller set, not the defaults shown beside them: the
  // variables a job gives Terraform. Records from before templates kept no
  // list, and held only what was given to Terraform.
  async setInputs(id: string): Promise<StackInputs | null> {
    const [inputs, set] = await this.c.redis.hmget(this.c.keys.stack(id), 'inputs', 'set_inputs');
    if (inputs === null || inputs === undefined) return null;
    const all = JSON.parse(inputs) as StackInputs;
    const names = set ? (JSON.parse(set) as string[]) : Object.keys(all);
    return Object.fromEntries(names.filter((name) => name in all).map((name) => [name, all[name]]));
  }

  // The sealed sensitive inputs, if any.
  async secrets(id: string): Promise<string | undefined> {
    return (await this.c.redis.hget(this.c.keys.stack(id), 'secrets')) || undefined;
  }

  // Newest first; the cursor is the last member of the previous page.
  // `drift`: only stacks whose last drift result is this one. `projects`:
  // only the stacks of these (none: of every project).
  async list(args: ListArgs): Promise<Page<Stack>> {
    const { redis, keys } = this.c;
    const listKey = this.#listKey(args);
    const { members: page, nextCursor } = await pageOfMembers(redis, listKey, 'newest', args.limit, args.cursor);
    const pipeline = redis.pipeline();
    for (const member of page) pipeline.hgetall(keys.stack(IndexMember.id(member)));
    const replies = page.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const items: Stack[] = [];
    for (const [error, hash] of replies) {
      if (error) throw error;
      const record = hash as Record<string, string>;
      if (record.id !== undefined) items.push(toStack(record));
    }
    return { items, nextCursor };
  }

  // The index a page is read from: every filter has its own, kept by the
  // scripts that change what it filters on (see lua/includes/drift.lua).
  #listKey(args: ListArgs): string | string[] {
    const { keys } = this.c;
    const { status, drift } = args;
    const key = (template: string, project?: string) => {
      if (drift && status) return keys.templateStatusDrift(template, status, drift, project);
      if (drift) return keys.templateDrift(template, drift, project);
      return status ? keys.templateStatus(template, status, project) : keys.templateIndex(template, project);
    };
    const { projects } = args;
    const ofTemplate = (template: string) =>
      projects === undefined ? [key(template)] : projects.map((project) => key(template, project));
    const found = [args.template].flat().flatMap(ofTemplate);
    return found.length === 1 ? (found[0] as string) : found;
  }

  // Ids of resources still creating that were recorded before `before`,
  // oldest first, at most `limit`.
  async creatingSince(before: Date, limit: number): Promise<string[]> {
    const bound = IndexMember.before(before.getTime());
    const members = await this.c.redis.zrange(this.c.keys.status('creating'), '-', bound, 'BYLEX', 'LIMIT', 0, limit);
    return members.map((member) => IndexMember.id(member));
  }

  // The ids of every ready stack, in batches.
  async *readyBatches(size: number): AsyncGenerator<string[]> {
    let start = '-';
    for (;;) {
      const members = await this.c.redis.zrange(this.c.keys.status('ready'), start, '+', 'BYLEX', 'LIMIT', 0, size);
      if (members.length === 0) return;
      yield members.map((member) => IndexMember.id(member));
      start = `(${members.at(-1)}`;
      if (members.length < size) return;
    }
  }

  // Of these stacks, those due a drift check: no job busy with them, and no
  // drift result found since `before`.
  async driftCheckDue(ids: readonly string[], before: Date): Promise<string[]> {
    const { redis, keys } = this.c;
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hget(keys.stack(id), 'drift_checked_at').llen(keys.ops(id));
    const replies = (await pipeline.exec()) ?? [];
    return ids.filter((_, i) => {
      const [[checkedError, checkedAt], [opsError, unfinished]] = [replies[2 * i] ?? [], replies[2 * i + 1] ?? []];
      if (checkedError || opsError) throw checkedError ?? opsError;
      return Number(unfinished) === 0 && (typeof checkedAt !== 'string' || Date.parse(checkedAt) < before.getTime());
    });
  }

  // Every stack recorded, deleted ones still kept (the retention period) included.
  async count(): Promise<number> {
    return this.c.redis.zcard(this.c.keys.index);
  }

  // Live stacks by their last drift result; `unknown` is the rest.
  async countByDrift(): Promise<Record<DriftStatus, number>> {
    const { redis, keys } = this.c;
    const [inSync, drifted, all, deleted] = await Promise.all([
      redis.zcard(keys.drift('in_sync')),
      redis.zcard(keys.drift('drifted')),
      redis.zcard(keys.index),
      redis.zcard(keys.status('deleted')),
    ]);
    return { in_sync: inSync, drifted, unknown: Math.max(0, all - deleted - inSync - drifted) };
  }

  async countByStatus(): Promise<Record<StackStatus, number>> {
    const pipeline = this.c.redis.pipeline();
    for (const status of STACK_STATUSES) pipeline.zcard(this.c.keys.status(status));
    const replies = (await pipeline.exec()) ?? [];
    const counts = {} as Record<StackStatus, number>;
    STACK_STATUSES.forEach((status, i) => {
      const [error, count] = replies[i] ?? [];
      if (error) throw error;
      counts[status] = Number(count);
    });
    return counts;
  }

  // Seconds until an owner's Idempotency-Key is forgotten; -2 if it is not held.
  async idempotencyKeyTtl(owner: string, key: string): Promise<number> {
    return this.c.redis.ttl(this.c.keys.idempotency(owner, key));
  }
}
