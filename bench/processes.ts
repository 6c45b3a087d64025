// Starting tfcompute's own processes for the benchmark, each in a process of
// its own as in production, and running commands in parallel lanes.
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { API_NODE_FLAGS } from '../scripts/api-node-flags.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

// The API runs with authentication on, as in production, with limits that
// the load does not reach.
export const BENCH_TOKEN = 'bench-token-0123456789abcdefghijkl';
export const AUTH_ENV = {
  API_TOKENS: `bench:read+write:sha256:${createHash('sha256').update(BENCH_TOKEN).digest('hex')}`,
  RATE_LIMIT_PER_MINUTE: '1000000',
  MAX_LIVE_RESOURCES_PER_TOKEN: '1000000',
};
export const AUTH_HEADER = { authorization: `Bearer ${BENCH_TOKEN}` };

export type Service = { child: ChildProcess; stop(): Promise<void>; rssBytes(): Promise<number> };

// Starts `node <entry>` and resolves once it logs `readyMessage`.
// With BENCH_CPU_PROF=DIR, each process writes a V8 CPU profile there on exit.
export async function startService(entry: string, env: Record<string, string>, readyMessage: string): Promise<Service> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const flags = entry === 'api/main.ts' ? API_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...flags, ...profile, path.join(ROOT, entry)], {
    env: { ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.includes(`"msg":"${readyMessage}"`)) return;
      // From here on the logs (a line per request) are drained unread, as a
      // log shipper would take them, so reading them costs the benchmark nothing.
      lines.close();
      child.stdout?.resume();
      resolve();
    });
    child.on('exit', (code) => reject(new Error(`${entry} exited with ${code}: ${stderr.slice(-2000)}`)));
  });
  return {
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
    async rssBytes() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      return Number(kb ?? 0) * 1024;
    },
  };
}

// Runs `task` for every item with at most `lanes` running at once.
export async function inLanes<T>(
  items: T[],
  lanes: number,
  task: (item: T, lane: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      while (next < items.length) {
        const item = items[next++] as T;
        await task(item, lane);
      }
    }),
  );
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}
