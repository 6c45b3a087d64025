// Policies in Redis: one hash each, indexed for every policy and by project
// (the every-project ones under '*'), so a job reads the policies that may
// apply to it with one round trip.
import type { Enforcement, JobAction } from '../schemas/index.ts';
import type { ContextOf } from './context.ts';
import { IndexMember } from './keys.ts';
import { auditRecord, type AuditNote } from './audit.ts';
import { EVERY_PROJECT } from './webhooks.ts';

export type PolicyRecord = {
  id: string;
  name: string;
  description: string;
  enforcement: Enforcement;
  // EVERY_PROJECT: every project's jobs.
  project: string;
  // Empty: every template, every action.
  templates: string[];
  actions: JobAction[];
  rule: string;
  message: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
};

type Changeable = 'name' | 'description' | 'enforcement' | 'templates' | 'actions' | 'rule' | 'message';
export type PolicyChanges = Partial<Pick<PolicyRecord, Changeable>> & { updatedAt: string };

function toPolicy(hash: Record<string, string>): PolicyRecord {
  return {
    id: hash.id ?? '',
    name: hash.name ?? '',
    description: hash.description ?? '',
    enforcement: (hash.enforcement ?? 'hard-mandatory') as Enforcement,
    project: hash.project ?? EVERY_PROJECT,
    templates: JSON.parse(hash.templates ?? '[]') as string[],
    actions: JSON.parse(hash.actions ?? '[]') as JobAction[],
    rule: hash.rule ?? '',
    message: hash.message ?? '',
    createdBy: hash.created_by ?? '',
    createdAt: hash.created_at ?? '',
    updatedAt: hash.updated_at ?? '',
  };
}

function fields(changes: PolicyChanges): string[] {
  const values: Record<string, string | undefined> = {
    name: changes.name,
    description: changes.description,
    enforcement: changes.enforcement,
    templates: changes.templates && JSON.stringify(changes.templates),
    actions: changes.actions && JSON.stringify(changes.actions),
    rule: changes.rule,
    message: changes.message,
    updated_at: changes.updatedAt,
  };
  return Object.entries(values).flatMap(([field, value]) => (value === undefined ? [] : [field, value]));
}

export class Policies {
  readonly #c: ContextOf<'redis' | 'keys' | 'scripts' | 'audit'>;

  constructor(context: ContextOf<'redis' | 'keys' | 'scripts' | 'audit'>) {
    this.#c = context;
  }

  // Stores a policy unless its project does not exist or has `limit` policies.
  async create(policy: PolicyRecord, limit: number, audit?: AuditNote): Promise<'created' | 'no-project' | 'limit'> {
    const { scripts, keys } = this.#c;
    const [outcome] = await scripts.run('create-policy', keys.projectRecordKeys('policy', policy.id, policy.project), {
      member: IndexMember.of(policy),
      project: policy.project,
      limit,
      fields: ['id', policy.id, 'created_by', policy.createdBy, 'created_at', policy.createdAt, ...fields(policy)],
      audit: auditRecord(this.#c, audit),
    });
    if (outcome === 'created' || outcome === 'no-project' || outcome === 'limit') return outcome;
    throw new Error(`unexpected reply from create-policy: ${outcome}`);
  }

  async get(id: string): Promise<PolicyRecord | undefined> {
    const hash = await this.#c.redis.hgetall(this.#c.keys.policy(id));
    return hash.id ? toPolicy(hash) : undefined;
  }

  async update(id: string, changes: PolicyChanges, audit?: AuditNote): Promise<'updated' | 'missing'> {
    const args = { target: 'policy' as const, fields: fields(changes), audit: auditRecord(this.#c, audit) };
    const [outcome] = await this.#c.scripts.run('update-record', [this.#c.keys.policy(id)], args);
    return outcome === 'updated' ? 'updated' : 'missing';
  }

  async delete(policy: PolicyRecord, audit?: AuditNote): Promise<'deleted' | 'missing'> {
    const { scripts, keys } = this.#c;
    const member = IndexMember.of(policy);
    const scriptKeys = [keys.policy(policy.id), keys.policyIndex, keys.projectPolicies(policy.project)];
    const [outcome] = await scripts.run('delete-policy', scriptKeys, { member, audit: auditRecord(this.#c, audit) });
    return outcome === 'deleted' ? 'deleted' : 'missing';
  }

  // The policies of these projects (EVERY_PROJECT among them for the
  // every-project ones), or every policy (undefined), oldest first.
  async list(projects: readonly string[] | undefined): Promise<PolicyRecord[]> {
    const { redis, keys } = this.#c;
    const indexes = projects === undefined ? [keys.policyIndex] : projects.map((p) => keys.projectPolicies(p));
    const perIndex = await Promise.all(indexes.map((index) => redis.zrange(index, '-', '+', 'BYLEX')));
    const members: string[] = perIndex.flat().sort();
    if (members.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const member of members) pipeline.hgetall(keys.policy(IndexMember.id(member)));
    const replies = (await pipeline.exec()) ?? [];
    const hashes = replies.flatMap(([error, hash]) => (error === null ? [hash as Record<string, string>] : []));
    return hashes.filter((hash) => hash.id).map(toPolicy);
  }
}
