// Brings records written by earlier versions of tfcompute up to the layout
// this one reads. Run by the API before it serves; each step is idempotent,
// so two processes starting together do no harm.
import { DEFAULT_PROJECT } from '../access/roles.ts';
import type { ContextOf } from './context.ts';
import { parse } from './outcomes.ts';
import type { MigrationArgs, MigrationName, ScriptArgs } from './script-args.ts';
// Stacks recorded before templates existed were all stacks of the single
// configuration then served, which is now the template of this name.
import { LEGACY_TEMPLATE } from '../legacy.ts';

// The layout versions, each reached by one script over a whole index.
// 2: every stack names its template and is in that template's indexes.
// 3: every live stack is in its template's drift index (unknown included),
//    and in that of its template, status and drift together.
// 4: every deleted stack is due to be forgotten, its sealed inputs gone.
// 5: every stack belongs to a project (those before projects to `default`)
//    and is in its project's list indexes.
// 6: every webhook belongs to a project; those before, to every project
//    (lua/migrate-webhook-projects-2.lua says why not `default`).
// 7: every stack has a job history, of the jobs its record still names.
// `index`: what the script reads through (default: every stack);
// `args`: the script's own arguments, beside those of every batch.
const STEPS = [
  { version: 2, script: 'migrate-templates', args: () => ({ template: LEGACY_TEMPLATE }) },
  { version: 3, script: 'migrate-drift', args: () => ({}) },
  {
    version: 4,
    script: 'migrate-deleted',
    args: (c: Slice) => ({ retentionSeconds: c.jobRetentionSeconds, nowMs: Date.now() }),
  },
  { version: 5, script: 'migrate-projects', args: () => ({}) },
  { version: 6, script: 'migrate-webhook-projects', args: () => ({}), index: (c: Slice) => c.keys.webhookIndex },
  { version: 7, script: 'migrate-history', args: () => ({}) },
] as const satisfies ReadonlyArray<{
  version: number;
  script: MigrationName;
  args: (c: Slice) => MigrationArgs[MigrationName];
  index?: (c: Slice) => string;
}>;
const BATCH = 500;
const DEFAULT_DESCRIPTION = 'Where stacks go that name no project, and those from before projects.';

export type Migrated = Partial<Record<(typeof STEPS)[number]['script'], number>>;

// What the migrations use of the store's context.
type Slice = ContextOf<'redis' | 'keys' | 'scripts' | 'jobRetentionSeconds'>;

export class Migrations {
  readonly #c: Slice;

  constructor(context: Slice) {
    this.#c = context;
  }

  // How many records each step that ran brought up to date.
  async run(): Promise<Migrated> {
    // The default project's record (it exists whether or not; this gives it one to show).
    await this.#c.scripts.run('create-project', [this.#c.keys.project(DEFAULT_PROJECT), this.#c.keys.projects], {
      name: DEFAULT_PROJECT,
      description: DEFAULT_DESCRIPTION,
      now: new Date().toISOString(),
    });
    const version = Number(await this.#c.redis.get(this.#c.keys.schema));
    const migrated: Migrated = {};
    for (const step of STEPS) {
      const index = 'index' in step ? step.index(this.#c) : this.#c.keys.index;
      if (version >= step.version) continue;
      migrated[step.script] = await this.#step(step.script, index, step.args(this.#c), step.version);
    }
    return migrated;
  }

  async #step<N extends MigrationName>(script: N, index: string, own: MigrationArgs[N], version: number) {
    const { keys, scripts } = this.#c;
    let changed = 0;
    let after = '';
    for (;;) {
      // In batches: each is one atomic step, and Redis serves others between them.
      // ScriptArgs[N] is this for every migration N; TypeScript cannot see it through N.
      const args = { ...own, after, batch: BATCH, version } as ScriptArgs[N];
      const batch = parse.migrate(script, await scripts.run(script, [index, keys.schema], args));
      changed += batch.changed;
      if (batch.outcome === 'done') return changed;
      after = batch.lastMember;
    }
  }
}
