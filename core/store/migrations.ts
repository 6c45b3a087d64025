// Brings records written by earlier versions of tfcompute up to the layout
// this one reads. Run by the API before it serves; each step is idempotent,
// so two processes starting together do no harm.
import type { StoreContext } from './context.ts';
import { parse } from './outcomes.ts';

// The layout version this code writes. 2: every resource names its template
// and is in that template's indexes.
const SCHEMA_VERSION = 2;
const BATCH = 500;

// Resources recorded before templates existed were all stacks of the single
// configuration then served, which is now the template of this name.
export const LEGACY_TEMPLATE = 'ec2instance';

export class Migrations {
  readonly #c: StoreContext;

  constructor(context: StoreContext) {
    this.#c = context;
  }

  // Returns how many resources were brought up to date.
  async run(): Promise<number> {
    const { redis, keys, scripts } = this.#c;
    if (Number(await redis.get(keys.schema)) >= SCHEMA_VERSION) return 0;
    let adopted = 0;
    let after = '';
    for (;;) {
      // In batches: each is one atomic step, and Redis serves others between them.
      const batch = parse.migrateTemplates(await scripts.run('migrate-templates', [keys.index, keys.schema], [after, BATCH, LEGACY_TEMPLATE, SCHEMA_VERSION]));
      adopted += batch.adopted;
      if (batch.outcome === 'done') return adopted;
      after = batch.lastMember;
    }
  }
}
