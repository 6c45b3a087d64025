// The events outbox: a Redis stream the Lua scripts append to in the same
// script as each change (lua/includes/events.lua). Dispatchers read it
// through one consumer group: an entry stays pending until a dispatcher has
// handed it on and acknowledged it, and a dead dispatcher's pending entries
// are claimed by another. Entries are kept for a day after they are handed on.
import { randomBytes } from 'node:crypto';
import type { OutboxEntry } from '../events/cloud-event.ts';
import type { RedisConnection } from '../redis.ts';
import type { ContextOf } from './context.ts';

export const DISPATCH_GROUP = 'dispatch';
const KEEP_MS = 24 * 3_600_000;

type StreamEntries = Array<[string, string[]]>;

// Redis's flat [name, value, name, value, ...] (XINFO's, a stream entry's) as a record.
function fieldsOf(flat: Array<string | number>): Record<string, string | number> {
  const record: Record<string, string | number> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = flat[i + 1] as string | number;
  return record;
}

function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

// The smallest stream id after `id`.
function nextId(id: string): string {
  const [ms = 0, seq = 0] = id.split('-').map(Number);
  return `${ms}-${seq + 1}`;
}

function entryOf([entryId, fields]: [string, string[]]): OutboxEntry {
  const record = fieldsOf(fields) as Record<string, string>;
  return {
    entryId,
    type: record.type ?? '',
    subject: record.subject ?? '',
    sequence: Number(record.sequence ?? 0),
    time: record.time ?? '',
    data: record.data ?? 'null',
  };
}

export class Outbox {
  readonly #c: ContextOf<'redis' | 'keys'>;

  constructor(context: ContextOf<'redis' | 'keys'>) {
    this.#c = context;
  }

  // The installation's seed, made on first use and kept.
  async seed(): Promise<string> {
    const { redis, keys } = this.#c;
    await redis.set(keys.eventSeed, randomBytes(32).toString('hex'), 'NX');
    return (await redis.get(keys.eventSeed)) as string;
  }

  // The consumer group, reading from the start of the stream (an event
  // recorded before any dispatcher ran is dispatched too).
  async ensureGroup(): Promise<void> {
    const { redis, keys } = this.#c;
    try {
      await redis.xgroup('CREATE', keys.outbox, DISPATCH_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!/BUSYGROUP/.test((error as Error).message)) throw error;
    }
  }

  // New entries for `consumer`, waiting up to `blockMs` for one.
  // `connection` blocks, so it must be used for nothing else meanwhile.
  async readNew(connection: RedisConnection, consumer: string, count: number, blockMs: number): Promise<OutboxEntry[]> {
    const { outbox } = this.#c.keys;
    const reply = (await connection.xreadgroup(
      'GROUP',
      DISPATCH_GROUP,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      outbox,
      '>',
    )) as Array<[string, StreamEntries]> | null;
    return (reply?.[0]?.[1] ?? []).map(entryOf);
  }

  // Entries already handed to `consumer` and not acknowledged: what it was
  // dispatching when Redis failed over or it restarted. Without blocking.
  async readOwnPending(consumer: string, count: number): Promise<OutboxEntry[]> {
    const { outbox } = this.#c.keys;
    const reply = (await this.#c.redis.xreadgroup(
      'GROUP',
      DISPATCH_GROUP,
      consumer,
      'COUNT',
      count,
      'STREAMS',
      outbox,
      '0',
    )) as Array<[string, StreamEntries]> | null;
    // An entry trimmed meanwhile comes back without its fields.
    return (reply?.[0]?.[1] ?? []).filter((entry): entry is [string, string[]] => Array.isArray(entry[1])).map(entryOf);
  }

  // Entries handed to a dispatcher that has not acknowledged them for
  // `idleMs` (it died, or this is its restart), now `consumer`'s.
  async claimStale(consumer: string, idleMs: number, count: number): Promise<OutboxEntry[]> {
    const { outbox } = this.#c.keys;
    const reply = (await this.#c.redis.xautoclaim(outbox, DISPATCH_GROUP, consumer, idleMs, '0', 'COUNT', count)) as [
      string,
      StreamEntries,
      string[]?,
    ];
    return reply[1].filter((entry): entry is [string, string[]] => Array.isArray(entry[1])).map(entryOf);
  }

  async ack(entryIds: readonly string[]): Promise<void> {
    if (entryIds.length > 0) await this.#c.redis.xack(this.#c.keys.outbox, DISPATCH_GROUP, ...entryIds);
  }

  // Drops entries older than a day, never one still pending or not yet read.
  async trim(nowMs: number): Promise<void> {
    const { redis, keys } = this.#c;
    type Summary = [number, string | null, string | null, unknown];
    const pending = (await redis.xpending(keys.outbox, DISPATCH_GROUP)) as Summary;
    const groups = (await redis.xinfo('GROUPS', keys.outbox)) as Array<Array<string | number>>;
    const group = groups.map(fieldsOf).find((g) => g.name === DISPATCH_GROUP);
    // The first entry the group has not read is after its last delivered one.
    const unread = group ? nextId(String(group['last-delivered-id'])) : '0-0';
    const candidates = [`${nowMs - KEEP_MS}-0`, pending[1] ?? unread, unread];
    const minId = candidates.reduce((a, b) => (compareIds(a, b) <= 0 ? a : b));
    await redis.xtrim(keys.outbox, 'MINID', minId);
    // Each worker process is a consumer of its own name; those of processes
    // long gone, with nothing pending, are forgotten.
    const consumers = (await redis.xinfo('CONSUMERS', keys.outbox, DISPATCH_GROUP)) as Array<Array<string | number>>;
    for (const consumer of consumers) {
      const info = fieldsOf(consumer);
      if (Number(info.pending) > 0 || Number(info.idle) <= KEEP_MS) continue;
      await redis.xgroup('DELCONSUMER', keys.outbox, DISPATCH_GROUP, String(info.name));
    }
  }

  // Every entry still kept, oldest first (for operators and tests).
  async entries(): Promise<OutboxEntry[]> {
    const reply = (await this.#c.redis.xrange(this.#c.keys.outbox, '-', '+')) as StreamEntries;
    return reply.map(entryOf);
  }

  // Counts what happened to events (dispatched, invalid, ...).
  async count(field: string, by = 1): Promise<void> {
    await this.#c.redis.hincrby(this.#c.keys.eventCounts, field, by);
  }

  async counts(): Promise<Record<string, number>> {
    const all = await this.#c.redis.hgetall(this.#c.keys.eventCounts);
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, Number(v)]));
  }
}
