// The audit log in Redis: two streams, the installation's (every entry) and
// each project's (its own entries), so that any page is one bounded read of
// one stream. A change's entry is written by the script or MULTI that makes
// the change (lua/includes/audit.lua); a refused attempt changes nothing and
// is appended here on its own.
import { customAlphabet } from 'nanoid';
import type { ChainableCommander } from 'ioredis';
import { AppError } from '../errors.ts';
import type { AuditAction, AuditEntry } from '../schemas/index.ts';
import type { ContextOf } from './context.ts';
import type { Page } from './pages.ts';
import type { AuditRecord } from './script-args.ts';

export type Actor = Readonly<{ kind: 'token' | 'oidc' | 'local'; name: string }>;

// Who asked for a change, and in which request: what a use case is given so
// that the change it makes is audited.
export type AuditContext = Readonly<{ actor: Actor; requestId: string }>;

// A change to audit: who, in which request, and what.
export type AuditNote = AuditContext & Readonly<{ action: AuditAction }>;

// A store method's arguments that may carry a note (none: a change no user
// asked for, such as a worker's or a ttl's, which is not audited).
export type Audited = { audit?: AuditNote | undefined };

// The note of `action` by the context's actor (none without a context).
export function noted(audit: AuditContext | undefined, action: AuditAction): AuditNote | undefined {
  return audit && { ...audit, action };
}

// The project of the installation's own entries.
export const INSTALLATION = '*';

// A filtered page reads at most this many entries, so that a rare actor or
// action costs a bounded read; the cursor then continues the scan.
const SCAN_LIMIT = 1000;
const SCAN_BATCH = 200;

const newAuditId = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 15);

export type AuditFilter = {
  project?: string | undefined;
  actor?: string | undefined;
  action?: AuditAction | undefined;
  limit: number;
  cursor?: string | undefined;
};

export class Audit {
  readonly #c: ContextOf<'redis' | 'keys' | 'audit'>;

  constructor(context: ContextOf<'redis' | 'keys' | 'audit'>) {
    this.#c = context;
  }

  // A refused attempt: `project` is where the caller acted, INSTALLATION
  // when it has no role there (only owners may learn of it); `target.id`
  // null when nothing was named (a create).
  async denied(note: AuditNote, project: string, target: { type: string; id: string | null }): Promise<void> {
    const nowMs = this.#c.audit.now();
    const multi = this.#c.redis.multi();
    const fields = entryFields(nowMs, note, project, { type: target.type, id: target.id ?? '' }, 'denied');
    appendTo(this.#c, multi, project, fields, nowMs);
    await multi.exec();
  }

  // Newest first, from the project's stream, or the installation's (every
  // entry) without one. Unfiltered, a page is one read; with filters, at
  // most SCAN_LIMIT entries are read, and the cursor (the stream position
  // of the last entry read) continues the scan where it stopped.
  async page(filter: AuditFilter): Promise<Page<AuditEntry>> {
    const { redis, keys } = this.#c;
    const key = filter.project === undefined ? keys.audit : keys.projectAudit(filter.project);
    let after = filter.cursor === undefined ? undefined : positionOf(filter.cursor);
    const read = async (count: number) => {
      const start = after === undefined ? '+' : `(${after}`;
      return (await redis.xrevrange(key, start, '-', 'COUNT', count)) as Array<[string, string[]]>;
    };
    if (filter.actor === undefined && filter.action === undefined) {
      const batch = await read(filter.limit + 1);
      const page = batch.slice(0, filter.limit);
      const nextCursor = batch.length > filter.limit ? cursorOf(page.at(-1)?.[0]) : null;
      return { items: page.map(([, flat]) => toEntry(flat)), nextCursor };
    }
    const items: AuditEntry[] = [];
    for (let scanned = 0; scanned < SCAN_LIMIT; ) {
      const count = Math.min(SCAN_BATCH, SCAN_LIMIT - scanned);
      const batch = await read(count);
      for (const [position, flat] of batch) {
        scanned += 1;
        after = position;
        const entry = toEntry(flat);
        if (filter.actor !== undefined && entry.actor.name !== filter.actor) continue;
        if (filter.action !== undefined && entry.action !== filter.action) continue;
        items.push(entry);
        if (items.length === filter.limit) return { items, nextCursor: cursorOf(after) };
      }
      if (batch.length < count) return { items, nextCursor: null };
    }
    return { items, nextCursor: cursorOf(after) };
  }
}

export function auditRecord(context: ContextOf<'audit'>, note: AuditNote | undefined): AuditRecord | undefined {
  if (note === undefined) return undefined;
  const nowMs = context.audit.now();
  return {
    id: `a${newAuditId()}`,
    at: new Date(nowMs).toISOString(),
    actor: { kind: note.actor.kind, name: note.actor.name },
    action: note.action,
    request_id: note.requestId,
    min_ms: String(nowMs - context.audit.retentionMs),
    keep_ms: String(context.audit.retentionMs),
  };
}

// Adds a change's entry to the MULTI that makes the change (see projects.ts).
export function auditInMulti(
  context: ContextOf<'keys' | 'audit'>,
  multi: ChainableCommander,
  note: AuditNote | undefined,
  project: string,
  target: Target,
): void {
  if (note === undefined) return;
  const nowMs = context.audit.now();
  appendTo(context, multi, project, entryFields(nowMs, note, project, target, 'allowed'), nowMs);
}

type Outcome = 'allowed' | 'denied';

type Target = { type: string; id: string };

function entryFields(nowMs: number, note: AuditNote, project: string, target: Target, outcome: Outcome): string[] {
  return [
    ...['id', `a${newAuditId()}`, 'at', new Date(nowMs).toISOString(), 'project', project],
    ...['actor_kind', note.actor.kind, 'actor_name', note.actor.name, 'action', note.action],
    ...['target_type', target.type, 'target_id', target.id, 'request_id', note.requestId, 'outcome', outcome],
  ];
}

// As lua/includes/audit.lua appends: to the installation's stream, and the
// project's; each trimmed to the retention period before the entry is added
// (a clock ahead never trims the entry itself), and expiring after it.
function appendTo(
  context: ContextOf<'keys' | 'audit'>,
  multi: ChainableCommander,
  project: string,
  fields: string[],
  nowMs: number,
): void {
  const { keys, audit } = context;
  const streams = project === INSTALLATION ? [keys.audit] : [keys.audit, keys.projectAudit(project)];
  for (const key of streams) {
    multi
      .xtrim(key, 'MINID', nowMs - audit.retentionMs)
      .xadd(key, '*', ...fields)
      .pexpire(key, audit.retentionMs);
  }
}

function toEntry(flat: string[]): AuditEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
  return {
    id: f.id ?? '',
    at: f.at ?? '',
    project: f.project === INSTALLATION || !f.project ? null : f.project,
    actor: { kind: (f.actor_kind ?? 'token') as Actor['kind'], name: f.actor_name ?? '' },
    action: (f.action ?? 'api.request') as AuditAction,
    target: { type: f.target_type ?? '', id: f.target_id || null },
    request_id: f.request_id ?? '',
    outcome: (f.outcome ?? 'allowed') as Outcome,
  };
}

function cursorOf(position: string | undefined): string | null {
  return position === undefined ? null : Buffer.from(position).toString('base64url');
}

function positionOf(cursor: string): string {
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,20}-\d{1,20}$/.test(position)) {
    throw new AppError('invalid-cursor', 'cursor is not one this API returned');
  }
  return position;
}
