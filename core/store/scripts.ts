// Loads the store's Lua scripts from lua/: one file per script, named
// `{name}-{numberOfKeys}.lua` as BullMQ names its commands, with shared pieces
// pulled in by `--- @include "{name}"` from lua/includes/ (each piece once).
import { readdirSync, readFileSync } from 'node:fs';
import type { RedisConnection } from '../redis.ts';
import { Keys } from './keys.ts';
import { ReplicaWait } from './replica-wait.ts';
import type { ScriptArgs, ScriptName } from './script-args.ts';

const LUA_DIR = new URL('./lua/', import.meta.url);
const INCLUDE = /^--- @include "([a-z-]+)"\s*$/;

export type { ScriptName } from './script-args.ts';

// `{name}-{numberOfKeys}.lua`: a file in lua/ not so named is an error.
const SCRIPT_FILE = /^([a-z]+(?:-[a-z]+)*)-(\d+)\.lua$/;

export type ScriptSource = { name: string; numberOfKeys: number; lua: string };

// Every script in lua/ (includes/ holds pieces, not scripts), includes resolved.
export function loadScripts(): Map<string, ScriptSource> {
  const scripts = new Map<string, ScriptSource>();
  for (const entry of readdirSync(LUA_DIR, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const match = SCRIPT_FILE.exec(entry.name);
    if (!match) throw new Error(`${entry.name} in ${LUA_DIR.pathname} is not named {name}-{numberOfKeys}.lua`);
    const [, name = '', keys] = match;
    scripts.set(name, { name, numberOfKeys: Number(keys), lua: resolveIncludes(read(entry.name), new Set()) });
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
    const mark = new Keys(prefix).replicaMark;
    this.#replicaWait = waitReplicas > 0 ? new ReplicaWait(redis, mark, waitReplicas, WAIT_TIMEOUT_MS) : undefined;
    for (const { name, numberOfKeys, lua } of SOURCES.values()) {
      const command = commandName(name);
      if (!(command in redis)) redis.defineCommand(command, { numberOfKeys, lua });
    }
  }

  // Runs a script: ARGV[1] is always the key prefix, ARGV[2] the script's
  // arguments packed as JSON.
  async run<N extends ScriptName>(name: N, keys: string[], args: ScriptArgs[N]): Promise<string[]> {
    const source = SOURCES.get(name);
    if (source?.numberOfKeys !== keys.length) {
      throw new Error(`script ${name} takes ${source?.numberOfKeys} keys, not ${keys.length}`);
    }
    const command = (this.#redis as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[commandName(name)];
    if (command === undefined) throw new Error(`Redis script ${name} is not defined`);
    const reply = await command.call(this.#redis, ...keys, this.#prefix, pack(args));
    // The wait covers every earlier write (BullMQ's on this connection too).
    // Past the timeout the reply is used anyway: a primary without replicas
    // keeps working, and min-replicas-to-write is what stops it (README, "Redis failover").
    await this.#replicaWait?.wait();
    if (!Array.isArray(reply) || typeof reply[0] !== 'string') {
      throw new Error(`unexpected reply from ${name}: ${JSON.stringify(reply)}`);
    }
    return reply.map(String);
  }
}

const SOURCES = loadScripts();

const WAIT_TIMEOUT_MS = 1_000;

function commandName(name: string): string {
  return `tfcompute_${name.replaceAll('-', '_')}`;
}

// JSON, as cjson decodes it (BullMQ packs with msgpack, which Redis's Lua
// reads as well; JSON needs no package here, and a packed argument stays
// readable in MONITOR and SLOWLOG). Strings are made well-formed first: a lone
// surrogate, which reached Redis as U+FFFD when each argument was its own
// ARGV (ioredis encodes UTF-8), would otherwise be an escape cjson refuses.
function pack(args: object): string {
  return JSON.stringify(args, (_, value: unknown) => (typeof value === 'string' ? value.toWellFormed() : value));
}
