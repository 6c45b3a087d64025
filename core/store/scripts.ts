// Loads the store's Lua scripts from lua/: one file per script, named
// `{name}-{numberOfKeys}.lua` as BullMQ names its commands, with shared pieces
// pulled in by `--- @include "{name}"` from lua/includes/ (each piece once).
import { readdirSync, readFileSync } from 'node:fs';
import type { RedisConnection } from '../redis.ts';
import { Keys } from './keys.ts';
import { ReplicaWait } from './replica-wait.ts';

const LUA_DIR = new URL('./lua/', import.meta.url);
const INCLUDE = /^--- @include "([a-z-]+)"\s*$/;

export const SCRIPT_NAMES = [
  'create',
  'request-delete',
  'request-retry',
  'request-plan',
  'request-update',
  'mark-planned',
  'approve',
  'discard-plan',
  'cancel',
  'mark-running',
  'requeue',
  'finish',
  'discard',
  'forget-deleted',
  'migrate-templates',
  'migrate-drift',
  'migrate-deleted',
  'migrate-projects',
  'migrate-webhook-projects',
  'migrate-history',
  'create-project',
  'delete-project',
  'create-webhook',
  'update-webhook',
  'record-delivery',
  'admit-delivery',
  'record-circuit',
  'create-token',
  'verify-token',
  'list-tokens',
  'revoke-token',
  'revoke-project-tokens',
  'create-policy',
  'update-policy',
  'delete-policy',
  'override',
  'mark-policy-failed',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

export type ScriptSource = { name: string; numberOfKeys: number; lua: string };

// Every script's source, includes resolved.
export function loadScripts(): Map<ScriptName, ScriptSource> {
  const files = readdirSync(LUA_DIR).filter((file) => file.endsWith('.lua'));
  const scripts = new Map<ScriptName, ScriptSource>();
  for (const name of SCRIPT_NAMES) {
    const file = files.find((f) => new RegExp(`^${name}-\\d+\\.lua$`).test(f));
    if (!file) throw new Error(`no Lua script for ${name} in ${LUA_DIR.pathname}`);
    const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
    scripts.set(name, { name, numberOfKeys, lua: resolveIncludes(read(file), new Set()) });
  }
  return scripts;
}

function read(file: string): string {
  return readFileSync(new URL(file, LUA_DIR), 'utf8');
}

function resolveIncludes(source: string, included: Set<string>): string {
  return source
    .split('\n')
    .map((line) => {
      const name = INCLUDE.exec(line)?.[1];
      if (name === undefined) return line;
      if (included.has(name)) return '';
      included.add(name);
      return resolveIncludes(read(`includes/${name}.lua`), included);
    })
    .join('\n');
}

type Arg = string | number;

// The scripts defined on one connection (EVALSHA, falling back to EVAL).
export class Scripts {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #replicaWait: ReplicaWait | undefined;

  // `waitReplicas`: replicas that must have a script's writes before its
  // reply is used, so that what a caller was told survives a failover.
  constructor(redis: RedisConnection, prefix: string, waitReplicas = 0) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#replicaWait = waitReplicas > 0 ? new ReplicaWait(redis, new Keys(prefix).replicaMark, waitReplicas, WAIT_TIMEOUT_MS) : undefined;
    for (const { name, numberOfKeys, lua } of SOURCES.values()) {
      const command = commandName(name);
      if (!(command in redis)) redis.defineCommand(command, { numberOfKeys, lua });
    }
  }

  // Runs a script; the key prefix is always ARGV[1].
  async run(name: ScriptName, keys: string[], args: Arg[]): Promise<string[]> {
    const source = SOURCES.get(name);
    if (source?.numberOfKeys !== keys.length) throw new Error(`script ${name} takes ${source?.numberOfKeys} keys, not ${keys.length}`);
    const command = (this.#redis as unknown as Record<string, (...a: Arg[]) => Promise<unknown>>)[commandName(name)];
    if (command === undefined) throw new Error(`Redis script ${name} is not defined`);
    const reply = await command.call(this.#redis, ...keys, this.#prefix, ...args);
    // The wait covers every earlier write (BullMQ's on this connection too).
    // Past the timeout the reply is used anyway: a primary without replicas
    // keeps working, and min-replicas-to-write is what stops it (README, "Redis failover").
    await this.#replicaWait?.wait();
    if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new Error(`unexpected reply from ${name}: ${JSON.stringify(reply)}`);
    return reply.map(String);
  }
}

const SOURCES = loadScripts();

const WAIT_TIMEOUT_MS = 1_000;

function commandName(name: string): string {
  return `tfcompute_${name.replaceAll('-', '_')}`;
}
