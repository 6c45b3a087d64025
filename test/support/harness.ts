// Test harness: real redis-server, real s3rver + dynalite, the real API on a
// free port and real workers running the real terraform binary against the
// fixture root configs in test/fixtures. Each test gets its own Redis key
// prefix (so its own queue) and stops everything it started.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, afterEach, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import request from 'supertest';
import { type RunningApi, startApi } from '../../api/server.ts';
import { createQueue, type JobQueue, jobOptions } from '../../core/queue.ts';
import { closeRedis, connectRedis, duplicateConnection, type RedisConnection } from '../../core/redis.ts';
import { loadConfig, type Config } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { FINISHED_JOB_STATUSES, type Job, type Stack } from '../../core/schemas/index.ts';
import { Store, type Message } from '../../core/store/index.ts';
import { startWorker, type RunningWorker } from '../../worker/worker.ts';
import { loadCatalogue } from '../../core/templates/index.ts';
import { eventMismatches } from './event-invariants.ts';
import { startRedis, startStateBackend, type RedisServer, type StateBackend } from './local-services.ts';
import { INPUTS, recordCreate } from './store-stacks.ts';
import { uniquePrefix } from './use-redis.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export type Fixture = 'ok' | 'fail' | 'slow' | 'probe' | 'changes';

export function fixtureDir(fixture: Fixture): string {
  return path.join(ROOT, 'test', 'fixtures', fixture);
}

// Services shared by the tests of one file.
export type Services = { redis: RedisServer; backend: StateBackend; dir: string; stop(): Promise<void> };

export async function startServices(): Promise<Services> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tfcompute-test-'));
  const redis = await startRedis(path.join(dir, 'redis'));
  let backend: StateBackend;
  try {
    backend = await startStateBackend(path.join(dir, 'state'));
  } catch (error) {
    // A redis-server left running would keep the test process alive.
    await redis.stop();
    throw error;
  }
  return {
    redis,
    backend,
    dir,
    async stop() {
      await backend.stop();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type SystemOptions = {
  fixture?: Fixture;
  concurrency?: number;
  attempts?: number;
  backoffMs?: number;
  stateDirectAccess?: 'auto' | 'off';
  // Extra or overriding settings.
  env?: Record<string, string>;
};

// The tokens every test system accepts: API_TOKENS holds the admin one as a
// sha256 digest and the others in plain, so both forms are exercised.
export const TOKENS = {
  admin: 'admin-token-0123456789abcdefghij',
  reader: 'reader-token-0123456789abcdefghi',
  writer: 'writer-token-0123456789abcdefghi',
} as const;
const API_TOKENS = [
  `admin:read+write:sha256:${createHash('sha256').update(TOKENS.admin).digest('hex')}`,
  `reader:read:${TOKENS.reader}`,
  `writer:write:${TOKENS.writer}`,
].join(',');

// The system under test: the API, the workers a test starts, and their own
// Redis key prefix (so their own queue), sharing the file's services.
export class TestSystem {
  readonly services: Services;
  readonly env: Record<string, string>;
  readonly config: Config;
  readonly redis: RedisConnection;
  readonly store: Store;
  readonly queue: JobQueue;
  baseUrl = '';
  api: RunningApi | undefined;
  readonly #stops: Array<() => Promise<unknown>> = [];

  constructor(services: Services, options: SystemOptions) {
    this.services = services;
    this.env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      ...services.backend.env,
      PORT: '0',
      REDIS_URL: services.redis.url,
      REDIS_PREFIX: uniquePrefix('test'),
      TF_CWD: fixtureDir(options.fixture ?? 'ok'),
      TF_BACKEND_CONFIG: services.backend.backendConfigFile,
      WORK_DIR: path.join(services.dir, 'work'),
      WORKER_CONCURRENCY: String(options.concurrency ?? 2),
      JOB_ATTEMPTS: String(options.attempts ?? 3),
      JOB_BACKOFF_MS: String(options.backoffMs ?? 200),
      SHUTDOWN_GRACE_SECONDS: '20',
      STATE_DIRECT_ACCESS: options.stateDirectAccess ?? 'auto',
      // Where the fail fixture remembers which resources already failed once.
      TF_VAR_marker_dir: services.dir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      API_TOKENS,
      // Short, so that a killed worker's jobs and locks are recovered quickly.
      WORKER_LEASE_SECONDS: '2',
      ...options.env,
    };
    this.config = loadConfig(this.env);
    this.redis = connectRedis(this.config.redis, 'worker', 'tfcompute-test');
    // Some tests stop Redis on purpose; reconnect errors are expected then.
    this.redis.on('error', () => undefined);
    this.store = new Store(this.redis, this.config.redisPrefix, this.config.worker.jobRetentionSeconds);
    this.queue = createQueue(this.redis, this.config.redisPrefix);
    // Likewise for the queue (BullMQ prints an error nobody listens for).
    this.queue.on('error', () => undefined);
    this.#stops.push(() => closeRedis(this.redis));
    this.#stops.push(() => this.queue.close());
  }

  // A supertest agent that sends the given token (the admin one by default).
  http(token: string = TOKENS.admin): ReturnType<typeof request.agent> {
    return request.agent(this.baseUrl).set('Authorization', `Bearer ${token}`);
  }

  async startApi(): Promise<RunningApi> {
    const api = await startApi(this.config, createLogger(this.config.logLevel, 'api'));
    this.api = api;
    this.baseUrl = `http://127.0.0.1:${api.port}`;
    this.#stops.push(() => api.stop());
    return api;
  }

  // A worker in this process; `fixture` or `env` change its settings from the system's.
  async startWorker(options: { fixture?: Fixture; env?: Record<string, string> } = {}): Promise<RunningWorker> {
    const config = loadConfig({
      ...this.env,
      ...(options.fixture ? { TF_CWD: fixtureDir(options.fixture) } : {}),
      ...options.env,
    });
    const worker = await startWorker(config, createLogger(config.logLevel, 'worker'));
    this.#stops.push(() => worker.stop());
    return worker;
  }

  // A worker in a process of its own, for tests that signal or count processes.
  // `env` changes its settings from the system's (a Redis reached through a proxy).
  async spawnWorker(options: { env?: Record<string, string> } = {}): Promise<WorkerProcess> {
    const child = spawn(process.execPath, [path.join(ROOT, 'worker', 'main.ts')], {
      env: { ...this.env, LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new WorkerProcess(child);
    this.#stops.push(() => worker.stop());
    await worker.ready;
    return worker;
  }

  // Resolves with the job once it has finished (succeeded, failed or cancelled).
  async waitForJob(jobId: string, timeoutMs = 60_000): Promise<Job> {
    return this.waitForJobRecord(jobId, (job) => FINISHED_JOB_STATUSES.includes(job.status), timeoutMs, 'not finished');
  }

  async waitForJobRunning(jobId: string, timeoutMs = 60_000): Promise<Job> {
    return this.waitForJobRecord(jobId, (job) => job.status !== 'queued', timeoutMs, 'not started');
  }

  // Resolves with the job's record once `done` accepts it, read again after
  // each of the job's events.
  async waitForJobRecord(
    jobId: string,
    done: (job: Job) => boolean,
    timeoutMs = 60_000,
    what = 'not as expected',
  ): Promise<Job> {
    const job = await this.#readUntil(
      (message) => message.topic === 'job' && message.event.jobId === jobId,
      () => this.store.jobs.get(jobId),
      (record) => record !== null && done(record),
      timeoutMs,
      `job ${jobId}: ${what}`,
    );
    return job as Job;
  }

  // Resolves with the job's log once it contains `text`.
  async waitForLog(jobId: string, text: string | RegExp, timeoutMs = 60_000): Promise<string> {
    const matches = (log: string) => (typeof text === 'string' ? log.includes(text) : text.test(log));
    return this.#readUntil(
      (message) => message.topic === 'log' && message.jobId === jobId,
      () => this.store.logs.get(jobId),
      matches,
      timeoutMs,
      `job ${jobId}: no log line ${text}`,
    );
  }

  // Resolves with the stack once it is in `status`, read again after each
  // of its jobs' events.
  async waitForStackStatus(id: string, status: Stack['status'], timeoutMs = 60_000): Promise<Stack> {
    return this.waitForStack(id, (stack) => stack.status === status, timeoutMs, `not ${status}`);
  }

  // Resolves with the stack once `done` accepts it, read again after each
  // of its jobs' events (drift checks' included).
  async waitForStack(
    id: string,
    done: (stack: Stack) => boolean,
    timeoutMs = 60_000,
    what = 'not as expected',
  ): Promise<Stack> {
    return this.waitForStackEvents(id, () => this.stack(id), done, timeoutMs, what);
  }

  // Resolves with what `read` returns once `done` accepts it, read again
  // after each event of the stack's jobs.
  async waitForStackEvents<T>(
    id: string,
    read: () => Promise<T>,
    done: (value: T) => boolean,
    timeoutMs = 60_000,
    what = 'not as expected',
  ): Promise<T> {
    return this.#readUntil(
      (message) => message.topic === 'job' && message.event.stackId === id,
      read,
      done,
      timeoutMs,
      `resource ${id}: ${what}`,
    );
  }

  // The one waiting primitive: reads with `read` until `done` says yes, again
  // after each store message `relevant` accepts. It subscribes before the
  // first read, and a message that arrives during a read makes the next wait
  // return at once, so nothing is missed.
  async #readUntil<T>(
    relevant: (message: Message) => boolean,
    read: () => Promise<T>,
    done: (value: T) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<T> {
    const subscriber = duplicateConnection(this.redis, 'tfcompute-test-waiter');
    subscriber.on('error', () => undefined);
    let pending = false;
    let wake: () => void = () => {};
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      await this.store.channels.subscribe(subscriber, ['job', 'log'], (message) => {
        if (!relevant(message)) return;
        pending = true;
        wake();
      });
      let value = await read();
      while (!done(value)) {
        if (!pending) {
          await new Promise<void>((resolve, reject) => {
            wake = resolve;
            if (deadline.aborted) reject(new Error(`${what} within ${timeoutMs} ms`));
            deadline.addEventListener('abort', () => reject(new Error(`${what} within ${timeoutMs} ms`)), {
              once: true,
            });
          });
        }
        pending = false;
        value = await read();
      }
      return value;
    } finally {
      subscriber.disconnect();
    }
  }

  // The keys matching `pattern`, from every primary when Redis is a cluster.
  async keysMatching(pattern: string): Promise<string[]> {
    const found: string[] = [];
    const servers = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    for (const server of servers) {
      for await (const keys of server.scanStream({ match: pattern, count: 1000 })) found.push(...(keys as string[]));
    }
    return found;
  }

  // Every value stored under this installation's prefix, as text: what an
  // operator with access to Redis could read.
  async everythingInRedis(): Promise<string> {
    const values: string[] = [];
    for (const key of await this.keysMatching(`${this.config.redisPrefix}:*`)) {
      const type = await this.redis.type(key);
      if (type === 'string') values.push((await this.redis.get(key)) ?? '');
      else if (type === 'hash') values.push(JSON.stringify(await this.redis.hgetall(key)));
      else if (type === 'list') values.push(JSON.stringify(await this.redis.lrange(key, 0, -1)));
      else if (type === 'set') values.push(JSON.stringify(await this.redis.smembers(key)));
      else if (type === 'zset') values.push(JSON.stringify(await this.redis.zrange(key, '0', '-1')));
    }
    return values.join('\n');
  }

  // The template and version the system's API and workers serve (TF_CWD, as
  // the template ec2instance, unless TEMPLATES_DIR is set).
  async templateRef(name = 'ec2instance'): Promise<{ name: string; version: string }> {
    const catalogue = await loadCatalogue(this.config.templates, {
      canEncrypt: this.config.encryptionKey !== undefined,
    });
    const template = catalogue.get(name);
    if (!template) throw new Error(`no template ${name}`);
    return { name, version: template.version };
  }

  // A create recorded in the store and queued by hand, as the API would but
  // with the job's inputs as given (`extraJobInputs`: what an older API or a
  // hand-made job adds), for the tests that need a job the API would not queue.
  async queueCreateByHand(options: {
    id: string;
    jobId: string;
    maxAttempts: number;
    extraJobInputs?: Record<string, unknown>;
  }): Promise<void> {
    const { id, jobId, maxAttempts } = options;
    const template = await this.templateRef();
    const setInputs = Object.keys(INPUTS);
    await recordCreate(this.store, { id, jobId, template, setInputs, maxAttempts, owner: 'test', maxLive: 100 });
    const data = {
      jobId,
      resourceId: id,
      action: 'create',
      template,
      inputs: { ...INPUTS, ...options.extraJobInputs },
    };
    await this.queue.add('create', data, jobOptions(jobId, maxAttempts, 200));
  }

  async stack(id: string): Promise<Stack> {
    const stack = await this.store.stacks.get(id);
    if (!stack) throw new Error(`no resource ${id}`);
    return stack;
  }

  async stateObjectStatus(workspace: string): Promise<number> {
    const response = await fetch(this.services.backend.stateObjectUrl(workspace));
    await response.body?.cancel();
    return response.status;
  }

  async stateAddresses(workspace: string): Promise<string[]> {
    const response = await fetch(this.services.backend.stateObjectUrl(workspace));
    if (response.status !== 200) return [];
    const state = (await response.json()) as {
      resources?: Array<{ type: string; name: string; instances: unknown[] }>;
    };
    return (state.resources ?? []).flatMap((r) => r.instances.map((_, i) => `${r.type}.${r.name}[${i}]`));
  }

  // The outbox says what the records say (support/event-invariants.ts);
  // skipped when the test left Redis down.
  async assertEventsMatchRecords(): Promise<void> {
    const probe = new Redis(this.services.redis.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    const up = await probe.connect().then(
      () => true,
      () => false,
    );
    probe.disconnect();
    if (!up) return;
    const problems = await eventMismatches(this.store, this.redis, this.config.redisPrefix);
    assert.deepEqual(problems, [], 'every recorded change has exactly one event, and each event its change');
  }

  async stop(): Promise<void> {
    for (const stop of this.#stops.reverse()) {
      await stop().catch(() => undefined);
    }
  }
}

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly logs: Array<Record<string, unknown>> = [];
  readonly #waiters = new Set<(entry: Record<string, unknown>) => void>();
  workerId = '';

  constructor(child: ChildProcess) {
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.ready = new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          this.logs.push(entry);
          for (const waiter of this.#waiters) waiter(entry);
          if (entry.msg === 'worker ready') {
            this.workerId = String(entry.workerId);
            resolve();
          }
        } catch {
          // not a log line
        }
      });
      child.on('exit', (code) =>
        reject(new Error(`worker exited with ${code} before it was ready: ${stderr.slice(-2000)}`)),
      );
    });
  }

  // Resolves with the first log entry (logged so far or from now on) that `matches` accepts.
  async logged(
    matches: (entry: Record<string, unknown>) => boolean,
    timeoutMs = 60_000,
  ): Promise<Record<string, unknown>> {
    const found = this.logs.find(matches);
    if (found) return found;
    const { promise, resolve, reject } = Promise.withResolvers<Record<string, unknown>>();
    const waiter = (entry: Record<string, unknown>) => {
      if (matches(entry)) resolve(entry);
    };
    const timer = setTimeout(
      () => reject(new Error(`the worker logged no such entry within ${timeoutMs} ms`)),
      timeoutMs,
    );
    this.#waiters.add(waiter);
    try {
      return await promise;
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(waiter);
    }
  }

  async signal(signal: NodeJS.Signals): Promise<number | null> {
    const exited = once(this.child, 'exit') as Promise<[number | null, string | null]>;
    this.child.kill(signal);
    const [code] = await exited;
    return code;
  }

  // Graceful first, so no Terraform process outlives the test.
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.signal('SIGTERM');
    clearTimeout(timer);
  }
}

// A problem+json answer with this status and code, and no stack trace.
export function assertProblem(res: request.Response, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  assert.equal(res.body.code, code);
  assert.equal(typeof res.body.detail, 'string');
  assert.ok(res.body.detail.length > 0);
  assert.doesNotMatch(res.text, /at .*\.ts:\d+/, 'no stack trace');
}

export async function createSystem(services: Services, options: SystemOptions = {}): Promise<TestSystem> {
  const system = new TestSystem(services, options);
  try {
    await system.startApi();
  } catch (error) {
    // Its connections would otherwise keep the test process alive.
    await system.stop();
    throw error;
  }
  return system;
}

// Registers the hooks of a test file: its services start once, and every system
// a test makes is stopped after that test. Returns the function that makes
// one, and one that returns the services.
export function useSystems(): [
  (options?: SystemOptions & { worker?: boolean }) => Promise<TestSystem>,
  () => Services,
] {
  let services: Services;
  const systems: TestSystem[] = [];
  before(async () => {
    services = await startServices();
  });
  after(async () => {
    await services?.stop();
  });
  afterEach(async () => {
    const stopping = systems.splice(0);
    try {
      for (const system of stopping) await system.assertEventsMatchRecords();
    } finally {
      for (const system of stopping) await system.stop();
    }
  });
  const make = async (options: SystemOptions & { worker?: boolean } = {}) => {
    const system = await createSystem(services, options);
    systems.push(system);
    if (options.worker) await system.startWorker();
    return system;
  };
  return [make, () => services];
}
