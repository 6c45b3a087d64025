// `npm run bench`: measures tfcompute against Terraform alone and against the
// original project's way, on this machine, and writes docs/benchmark.md (and
// the figures as docs/benchmark.json).
//
// BENCH_N (default "100,1000") and BENCH_CONFIGS (default "1x2,2x2", workers x
// concurrency) choose the pipeline runs, every size in every configuration,
// unless BENCH_RUNS lists them ("1x2@100,1x2@1000,2x4@200"); BENCH_ORIGINAL_MAX_N
// leaves out the original project's way above that N; BENCH_SEEDED_N=5000 adds
// a run of ours at that many workspaces, all but the largest N of the first
// configuration's pre-seeded in the bucket. BENCH_SKIP_PIPELINE=1 and
// BENCH_SKIP_API=1 leave out the pipeline runs or the API load, BENCH_SKIP_CHANGES=1
// the updates and drift checks, BENCH_SKIP_EVENTS=1 the lifecycle events;
// BENCH_SKIP_RETENTION=1 the memory of deleted stacks;
// BENCH_ONLY_CHANGES=1, BENCH_ONLY_EVENTS=1 or BENCH_ONLY_RETENTION=1 prints only that section (to
// paste into a report) and writes nothing; BENCH_OUT (default docs) is
// where the report goes.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRedis, startStateBackend, writeBackendConfig } from '../test/support/local-services.ts';
import { S3Counter } from '../test/support/s3-counter.ts';
import { runApiLoad, type ApiResults } from './api-load.ts';
import { runOriginal, runOurs, runRaw, seedWorkspaces, type Setup } from './pipeline.ts';
import { type ChangesResults, runChanges } from './changes.ts';
import { type EventsResults, runEvents } from './events.ts';
import {
  render,
  renderChanges,
  renderEvents,
  renderRetention,
  type BenchResults,
  type Row,
  type SeededRun,
} from './report.ts';
import { type RetentionResults, runRetention } from './retention.ts';
import { ROOT, seconds } from './processes.ts';
import { API_NODE_FLAGS } from '../scripts/api-node-flags.ts';

const env = process.env;
const sizes = (env.BENCH_N ?? '100,1000').split(',').map(Number);
const config = (c: string) => {
  const [w, c2] = c.split('x').map(Number);
  return { workers: w ?? 1, concurrency: c2 ?? 2 };
};
const runs =
  env.BENCH_SKIP_PIPELINE === '1'
    ? []
    : env.BENCH_RUNS
      ? env.BENCH_RUNS.split(',').map((run) => {
          const [c = '1x2', n = '100'] = run.split('@');
          return { ...config(c), n: Number(n) };
        })
      : (env.BENCH_CONFIGS ?? '1x2,2x2').split(',').flatMap((c) => sizes.map((n) => ({ ...config(c), n })));
const originalMaxN = Number(env.BENCH_ORIGINAL_MAX_N ?? Infinity);
const seededN = Number(env.BENCH_SEEDED_N ?? 0);
// The command that produced the report, as far as the BENCH_ settings tell it.
const command = [
  ...Object.entries(env)
    .filter(([name]) => name.startsWith('BENCH_'))
    .map(([name, value]) => `${name}=${value}`),
  'npm run bench',
].join(' ');
const loadBefore = os.loadavg();

const dir = await mkdtemp(path.join(os.tmpdir(), 'tfcompute-bench-'));
const redis = await startRedis(path.join(dir, 'redis'), { appendonly: true });
const emulators = await startStateBackend(path.join(dir, 'state'));
// Every S3 request, ours and Terraform's, through a proxy that counts them.
const s3Counter = new S3Counter(emulators.s3Endpoint);
const countedConfig = path.join(dir, 'counted-backend.hcl');
await writeBackendConfig(countedConfig, await s3Counter.start(), emulators.dynamodbEndpoint);
const backend = { ...emulators, backendConfigFile: countedConfig };
const setup: Setup = {
  redisUrl: redis.url,
  redisPid: redis.process.pid ?? 0,
  backend,
  s3Counter,
  workDir: path.join(dir, 'work'),
};
await mkdir(setup.workDir, { recursive: true });

const rows: Row[] = [];
let seeded: SeededRun | undefined;
let api: ApiResults | undefined;
let changes: ChangesResults | undefined;
let events: EventsResults | undefined;
let retention: RetentionResults | undefined;
const onlyEvents = env.BENCH_ONLY_EVENTS === '1';
const onlyChanges = env.BENCH_ONLY_CHANGES === '1';
const onlyRetention = env.BENCH_ONLY_RETENTION === '1';
const onlyOne = onlyChanges || onlyEvents || onlyRetention;
try {
  for (const { workers, concurrency, n } of onlyOne ? [] : runs) {
    const lanes = workers * concurrency;
    log(`pipeline ${workers}x${concurrency}, N=${n}: ours`);
    const ours = await runOurs(setup, workers, concurrency, n);
    log(`  ours ${seconds(ours.createMs)} s create, ${seconds(ours.deleteMs)} s delete; raw`);
    const raw = await runRaw(setup, workers, lanes, n);
    log(`  raw ${seconds(raw.createMs)} s create, ${seconds(raw.deleteMs)} s delete`);
    const original = n <= originalMaxN ? await runOriginal(setup, lanes, n) : undefined;
    if (original) log(`  original ${seconds(original.createMs)} s create, ${seconds(original.deleteMs)} s delete`);
    rows.push({ workers, concurrency, n, ours, raw, ...(original ? { original } : {}) });
  }
  const first = runs[0];
  if (seededN > 0 && first && !onlyOne) {
    const n = Math.max(...runs.map((r) => r.n));
    log(`ours at ${seededN} workspaces: seeding ${seededN - n}, then N=${n} at ${first.workers}x${first.concurrency}`);
    await seedWorkspaces(emulators.s3Endpoint, seededN - n);
    const ours = await runOurs(setup, first.workers, first.concurrency, n);
    log(`  ours ${seconds(ours.createMs)} s create, ${seconds(ours.deleteMs)} s delete`);
    seeded = {
      workspaces: seededN,
      seeded: seededN - n,
      workers: first.workers,
      concurrency: first.concurrency,
      n,
      ours,
    };
  }
  if (env.BENCH_SKIP_API !== '1' && !onlyOne) {
    log('API load');
    api = await runApiLoad(setup);
  }
  if (env.BENCH_SKIP_CHANGES !== '1' && (!onlyOne || onlyChanges)) changes = await runChanges(setup, log);
  if (env.BENCH_SKIP_EVENTS !== '1' && (!onlyOne || onlyEvents)) events = await runEvents(setup, log);
  if (env.BENCH_SKIP_RETENTION !== '1' && (!onlyOne || onlyRetention)) retention = await runRetention(setup, log);
} finally {
  await s3Counter.stop();
  await emulators.stop();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}

if (onlyChanges && changes) {
  process.stdout.write(`${renderChanges(changes).join('\n')}\n`);
} else if (onlyEvents && events) {
  process.stdout.write(`${renderEvents(events).join('\n')}\n`);
} else if (onlyRetention && retention) {
  process.stdout.write(`${renderRetention(retention).join('\n')}\n`);
} else {
  const results: BenchResults = {
    date: new Date().toISOString().slice(0, 10),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}`,
    software: `Node.js ${process.versions.node}; ${version('terraform', ['version'])}; ${version('redis-server', ['--version'])}`,
    apiNodeFlags: API_NODE_FLAGS.join(' '),
    command,
    loadAverage: { before: loadBefore, after: os.loadavg() },
    rows,
    ...(seeded ? { seeded } : {}),
    ...(api ? { api } : {}),
    ...(changes ? { changes } : {}),
    ...(events ? { events } : {}),
    ...(retention ? { retention } : {}),
  };
  const out = path.resolve(ROOT, env.BENCH_OUT ?? 'docs');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'benchmark.json'), `${JSON.stringify(results, null, 2)}\n`);
  const report = render(results);
  await writeFile(path.join(out, 'benchmark.md'), report);
  process.stdout.write(report);
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      env: { ...env, TF_CLI_CONFIG_FILE: path.join(ROOT, 'worker', 'terraform.rc') },
    })
      .split('\n')[0]!
      .trim();
  } catch {
    return 'unknown';
  }
}
