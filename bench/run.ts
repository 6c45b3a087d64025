// `npm run bench`: measures tfcompute against Terraform alone and against the
// original project's way, on this machine, and writes docs/benchmark.md (and
// the figures as docs/benchmark.json).
//
// BENCH_N (default "100,1000") and BENCH_CONFIGS (default "1x2,2x2", workers x
// concurrency) choose the pipeline runs; BENCH_SKIP_PIPELINE=1 and
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
import { startRedis, startStateBackend } from '../test/support/local-services.ts';
import { runApiLoad, type ApiResults } from './api-load.ts';
import { runOriginal, runOurs, runRaw, type Setup } from './pipeline.ts';
import { type ChangesResults, runChanges } from './changes.ts';
import { type EventsResults, runEvents } from './events.ts';
import { render, renderChanges, renderEvents, renderRetention, type BenchResults, type Row } from './report.ts';
import { type RetentionResults, runRetention } from './retention.ts';
import { ROOT, seconds } from './processes.ts';
import { API_NODE_FLAGS } from '../scripts/api-node-flags.ts';

const env = process.env;
const sizes = (env.BENCH_N ?? '100,1000').split(',').map(Number);
const configs = (env.BENCH_SKIP_PIPELINE === '1' ? [] : (env.BENCH_CONFIGS ?? '1x2,2x2').split(',')).map((c) => {
  const [w, c2] = c.split('x').map(Number);
  return { workers: w ?? 1, concurrency: c2 ?? 2 };
});

const dir = await mkdtemp(path.join(os.tmpdir(), 'tfcompute-bench-'));
const redis = await startRedis(path.join(dir, 'redis'), { appendonly: true });
const backend = await startStateBackend(path.join(dir, 'state'));
const setup: Setup = { redisUrl: redis.url, backend, workDir: path.join(dir, 'work') };
await mkdir(setup.workDir, { recursive: true });

const rows: Row[] = [];
let api: ApiResults | undefined;
let changes: ChangesResults | undefined;
let events: EventsResults | undefined;
let retention: RetentionResults | undefined;
const onlyEvents = env.BENCH_ONLY_EVENTS === '1';
const onlyChanges = env.BENCH_ONLY_CHANGES === '1';
const onlyRetention = env.BENCH_ONLY_RETENTION === '1';
const onlyOne = onlyChanges || onlyEvents || onlyRetention;
try {
  for (const { workers, concurrency } of onlyOne ? [] : configs) {
    for (const n of sizes) {
      const lanes = workers * concurrency;
      log(`pipeline ${workers}x${concurrency}, N=${n}: ours`);
      const ours = await runOurs(setup, workers, concurrency, n);
      log(`  ours ${seconds(ours.createMs)} s create, ${seconds(ours.deleteMs)} s delete; raw`);
      const raw = await runRaw(setup, workers, lanes, n);
      log(`  raw ${seconds(raw.createMs)} s create, ${seconds(raw.deleteMs)} s delete; original`);
      const original = await runOriginal(setup, lanes, n);
      log(`  original ${seconds(original.createMs)} s create, ${seconds(original.deleteMs)} s delete`);
      rows.push({ workers, concurrency, n, ours, raw, original });
    }
  }
  if (env.BENCH_SKIP_API !== '1' && !onlyOne) {
    log('API load');
    api = await runApiLoad(setup);
  }
  if (env.BENCH_SKIP_CHANGES !== '1' && (!onlyOne || onlyChanges)) changes = await runChanges(setup, log);
  if (env.BENCH_SKIP_EVENTS !== '1' && (!onlyOne || onlyEvents)) events = await runEvents(setup, log);
  if (env.BENCH_SKIP_RETENTION !== '1' && (!onlyOne || onlyRetention)) retention = await runRetention(setup, log);
} finally {
  await backend.stop();
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
    rows,
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
    return execFileSync(command, args, { encoding: 'utf8', env: { ...env, TF_CLI_CONFIG_FILE: path.join(ROOT, 'worker', 'terraform.rc') } })
      .split('\n')[0]!
      .trim();
  } catch {
    return 'unknown';
  }
}

