// Changing live stacks and checking them for drift: how long a PATCH takes
// to its plan and an approval to a ready stack, what one drift check costs,
// and how many checks an hour one worker runs beside user traffic (and what
// they cost that traffic). Against the changes fixture (terraform_data).
import path from 'node:path';
import { Redis } from 'ioredis';
import { type Job, SETTLED_JOB_STATUSES } from '../core/schemas/index.ts';
import { Store } from '../core/store/index.ts';
import { installationEnv, type Setup } from './pipeline.ts';
import { AUTH_HEADER, ROOT, startService } from './processes.ts';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'changes');

export type Spread = { median: number; p95: number; n: number };
export type ChangesResults = {
  planMs: Spread;
  approveMs: Spread;
  check: { durationMs: Spread; perHourIdle: number; perHourBesideUsers: number; stacks: number };
  users: { withoutChecks: Spread; withChecks: Spread; windowSeconds: number };
};

type Installation = {
  base: string;
  store: Store;
  stop(): Promise<void>;
};

async function install(setup: Setup, driftInterval: string): Promise<Installation> {
  const installation = installationEnv(setup, FIXTURE, 2);
  const { port, prefix } = installation;
  const env = { ...installation.env, DRIFT_CHECK_INTERVAL: driftInterval };
  const api = await startService('api/main.ts', env, 'api listening');
  const worker = await startService('worker/main.ts', env, 'worker ready');
  const redis = new Redis(setup.redisUrl);
  return {
    base: `http://127.0.0.1:${port}`,
    store: new Store(redis, prefix, 86_400),
    async stop() {
      redis.disconnect();
      await worker.stop();
      await api.stop();
    },
  };
}

async function call(
  base: string,
  method: string,
  route: string,
  body?: unknown,
  wait = false,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      ...AUTH_HEADER,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(wait ? { prefer: 'wait=120' } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function readyStacks(base: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const created = await call(base, 'POST', '/api/ec2instance', { node_count: 2 }, true);
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
    ids.push(created.body.id as string);
  }
  return ids;
}

// Reads the job until it has settled; the bench has no event subscription
// here, so it reads every 10 ms (the figures are ~10 ms coarse).
async function settled(store: Store, jobId: string): Promise<Job> {
  for (;;) {
    const job = await store.jobs.get(jobId);
    if (job && SETTLED_JOB_STATUSES.includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  return { median: at(0.5), p95: at(0.95), n: sorted.length };
}

// User traffic for `seconds`: PATCHes with auto_apply, one after another,
// round the stacks; returns each one's time to ready.
async function userTraffic(base: string, ids: string[], seconds: number): Promise<number[]> {
  const times: number[] = [];
  const end = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < end; i++) {
    const started = performance.now();
    const res = await call(
      base,
      'PATCH',
      `/api/ec2instance/${ids[i % ids.length]}`,
      { inputs: { tags: { round: String(i) } }, auto_apply: true },
      true,
    );
    if (res.status !== 200 || res.body.status !== 'ready')
      throw new Error(`update answered ${res.status}: ${JSON.stringify(res.body)}`);
    times.push(performance.now() - started);
  }
  return times;
}

// The drift checks that finished in [from, to].
async function checksIn(store: Store, ids: string[], from: number, to: number, seen: Set<string>): Promise<number[]> {
  const durations: number[] = [];
  // Every check of a stack is its drift job in turn: collect them as they come.
  for (const id of ids) {
    const drift = (await store.stacks.get(id))?.drift;
    if (drift?.job) seen.add(drift.job.id);
  }
  for (const jobId of seen) {
    const job = await store.jobs.get(jobId);
    if (job?.action !== 'plan' || !job.started_at || !job.finished_at) continue;
    const finished = Date.parse(job.finished_at);
    if (finished >= from && finished <= to) durations.push(finished - Date.parse(job.started_at));
  }
  return durations;
}

// Watches the stacks' drift jobs for `seconds`, sampling every 100 ms so no
// check is missed (each stack's next check takes at least the interval).
async function watchChecks(
  store: Store,
  ids: string[],
  seconds: number,
  during?: Promise<unknown>,
): Promise<{ durations: number[]; seconds: number }> {
  const seen = new Set<string>();
  const from = Date.now();
  const end = from + seconds * 1000;
  let running = true;
  void during?.finally(() => {
    running = false;
  });
  while (Date.now() < end && running) {
    await checksIn(store, ids, from, Date.now(), seen);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const to = Date.now();
  return { durations: await checksIn(store, ids, from, to, seen), seconds: (to - from) / 1000 };
}

export async function runChanges(setup: Setup, log: (message: string) => void): Promise<ChangesResults> {
  const windowSeconds = 30;
  const planMs: number[] = [];
  const approveMs: number[] = [];
  let withoutChecks: number[] = [];
  const quiet = await install(setup, 'off');
  try {
    log('changes: PATCH -> planned -> approve -> ready, 20 stacks');
    const ids = await readyStacks(quiet.base, 20);
    for (const id of ids) {
      const started = performance.now();
      const patched = await call(quiet.base, 'PATCH', `/api/ec2instance/${id}`, { inputs: { node_count: 3 } }, true);
      const jobId = (patched.body.job as { id: string }).id;
      if ((patched.body.job as { status: string }).status !== 'planned')
        throw new Error(`not planned: ${JSON.stringify(patched.body)}`);
      const planned = performance.now();
      await call(quiet.base, 'POST', `/api/jobs/${jobId}/apply`);
      const done = await settled(quiet.store, jobId);
      if (done.status !== 'succeeded') throw new Error(`apply ${done.status}: ${JSON.stringify(done.error)}`);
      planMs.push(planned - started);
      approveMs.push(performance.now() - planned);
    }
    log('changes: user updates without drift checks');
    withoutChecks = await userTraffic(quiet.base, ids.slice(0, 5), windowSeconds);
  } finally {
    await quiet.stop();
  }

  const checked = await install(setup, '1s');
  try {
    const ids = await readyStacks(checked.base, 20);
    log('changes: drift checks, idle');
    const idle = await watchChecks(checked.store, ids, windowSeconds);
    log('changes: drift checks beside user updates');
    const users = userTraffic(checked.base, ids.slice(0, 5), windowSeconds);
    const beside = await watchChecks(checked.store, ids, windowSeconds + 60, users);
    const withChecks = await users;
    return {
      planMs: spread(planMs),
      approveMs: spread(approveMs),
      check: {
        durationMs: spread(idle.durations),
        perHourIdle: Math.round((idle.durations.length / idle.seconds) * 3600),
        perHourBesideUsers: Math.round((beside.durations.length / beside.seconds) * 3600),
        stacks: ids.length,
      },
      users: { withoutChecks: spread(withoutChecks), withChecks: spread(withChecks), windowSeconds },
    };
  } finally {
    await checked.stop();
  }
}
