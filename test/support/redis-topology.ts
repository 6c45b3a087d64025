// Real Redis topologies on loopback for the failover and cluster tests: a
// primary with a replica watched by three sentinels, and a three-primary
// Redis Cluster. Each process logs to a pipe the tests wait on (a sentinel's
// "+switch-master", a cluster node's "Cluster state changed: ok"), never on a clock.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { freePort } from './local-services.ts';

export class RedisProcess {
  readonly port: number;
  readonly child: ChildProcess;
  sentinel = false;
  output = '';
  readonly #waiters = new Set<() => void>();

  constructor(port: number, command: string, args: string[]) {
    this.port = port;
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (chunk: Buffer) => {
      this.output += chunk.toString();
      for (const wake of this.#waiters) wake();
    };
    this.child.stdout?.on('data', take);
    this.child.stderr?.on('data', take);
    this.child.on('exit', () => {
      for (const wake of this.#waiters) wake();
    });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  // Resolves with the `count`th line of output matching `pattern` (from the start).
  async waitForLine(pattern: RegExp, count = 1, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.output.split('\n').filter((l) => pattern.test(l))[count - 1];
      if (line !== undefined) return line;
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`redis on ${this.port} exited before logging ${pattern}: ${this.output.slice(-500)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `redis on ${this.port} did not log ${pattern} within ${timeoutMs} ms: ${this.output.slice(-500)}`,
        );
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    await exited;
  }
}

const SERVER_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];

async function server(dir: string, port: number, extra: string[]): Promise<RedisProcess> {
  await mkdir(dir, { recursive: true });
  const redis = new RedisProcess(port, 'redis-server', [
    '--port',
    String(port),
    ...SERVER_ARGS,
    '--dir',
    dir,
    ...extra,
  ]);
  await redis.waitForLine(/Ready to accept connections/);
  return redis;
}

export const SENTINEL_NAME = 'tfc';

// A free port below the kernel's ephemeral range (32768 and up), for the
// primary: it is killed and restarted on the same port, and meanwhile no
// other process's port 0 (another test file's Redis, run beside this one)
// can take it; the sentinels would make whatever answered there a replica.
async function freeFixedPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => probe.close(resolve));
      return port;
    }
  }
}

export type SentinelSet = {
  primary: RedisProcess;
  replica: RedisProcess;
  sentinels: RedisProcess[];
  // REDIS_SENTINELS for the system under test.
  setting: string;
  // Starts the old primary again on its port: Sentinel makes it a replica of the new one.
  restartPrimary(): Promise<RedisProcess>;
  stop(): Promise<void>;
};

// A primary, one replica of it, and three sentinels (quorum 2) that call
// the primary down after 1 s without an answer.
export async function startSentinelSet(dir: string): Promise<SentinelSet> {
  const started: RedisProcess[] = [];
  // The sentinels first: with a server gone they would start a failover.
  const stop = async () => {
    const order = [...started].sort((a, b) => Number(b.sentinel) - Number(a.sentinel));
    for (const p of order) await p.stop('SIGKILL').catch(() => undefined);
  };
  try {
    const primaryPort = await freeFixedPort();
    let primary = await server(path.join(dir, 'primary'), primaryPort, []);
    started.push(primary);
    const replica = await server(path.join(dir, 'replica'), await freePort(), [
      '--replicaof',
      '127.0.0.1',
      String(primaryPort),
    ]);
    started.push(replica);
    await replica.waitForLine(/MASTER <-> REPLICA sync: Finished with success/);
    const sentinels: RedisProcess[] = [];
    for (let i = 0; i < 3; i += 1) {
      const port = await freePort();
      const file = path.join(dir, `sentinel-${i}.conf`);
      // Sentinel rewrites its configuration file as it learns, so each has its own.
      await writeFile(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
          `sentinel failover-timeout ${SENTINEL_NAME} 10000`,
          `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
          '',
        ].join('\n'),
      );
      // redis-server in sentinel mode: the redis-sentinel binary is a package of its own on Debian.
      const sentinel = new RedisProcess(port, 'redis-server', [file, '--sentinel']);
      sentinel.sentinel = true;
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    // Each sentinel has found the replica and the two other sentinels: a failover can be agreed.
    for (const sentinel of sentinels) {
      await sentinel.waitForLine(new RegExp(`\\+slave slave 127\\.0\\.0\\.1:${replica.port}`));
      await sentinel.waitForLine(/\+sentinel sentinel /, 2);
    }
    return {
      get primary() {
        return primary;
      },
      replica,
      sentinels,
      setting: sentinels.map((s) => s.address).join(','),
      async restartPrimary() {
        primary = await server(path.join(dir, 'primary'), primaryPort, []);
        started.push(primary);
        return primary;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export type RedisCluster = { nodes: RedisProcess[]; setting: string; stop(): Promise<void> };

// Three primaries sharing the 16384 slots, no replicas.
export async function startRedisCluster(dir: string): Promise<RedisCluster> {
  const nodes: RedisProcess[] = [];
  const stop = async () => {
    for (const p of nodes.reverse()) await p.stop('SIGKILL').catch(() => undefined);
  };
  try {
    for (let i = 0; i < 3; i += 1) {
      const port = await freePort();
      nodes.push(
        await server(path.join(dir, `node-${i}`), port, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
        ]),
      );
    }
    const create = new RedisProcess(0, 'redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => n.address),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const [code] = (await once(create.child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`redis-cli --cluster create failed: ${create.output.slice(-1000)}`);
    for (const node of nodes) await node.waitForLine(/Cluster state changed: ok/);
    return { nodes, setting: nodes.map((n) => n.address).join(','), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
