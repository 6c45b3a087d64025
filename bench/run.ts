// `npm run bench`: measures tfcompute against Terraform alone and against the
// original project's way, on this machine, and writes docs/benchmark.md.
//
// BENCH_N (default "100,1000") and BENCH_CONFIGS (default "1x2,2x2", workers x
// concurrency) choose the pipeline runs; BENCH_SKIP_PIPELINE=1 and
// BENCH_SKIP_API=1 leave out the pipeline runs or the API load.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRedis, startStateBackend } from '../scripts/local-services.ts';
import { runApiLoad, type ApiResults, type LoadResult } from './api-load.ts';
import { runOriginal, runOurs, runRaw, type PhaseTimes, type Setup } from './pipeline.ts';
import { ROOT, seconds } from './processes.ts';
import { API_NODE_FLAGS } from '../core/runtime.ts';

const env = process.env;
const sizes = (env.BENCH_N ?? '100,1000').split(',').map(Number);
const configs = (env.BENCH_SKIP_PIPELINE === '1' ? [] : (env.BENCH_CONFIGS ?? '1x2,2x2').split(',')).map((c) => {
  const [w, c2] = c.split('x').map(Number);
  return { workers: w ?? 1, concurrency: c2 ?? 2 };
});

type Row = { workers: number; concurrency: number; n: number; ours: PhaseTimes; raw: PhaseTimes; original: PhaseTimes };

const dir = await mkdtemp(path.join(os.tmpdir(), 'tfcompute-bench-'));
const redis = await startRedis(path.join(dir, 'redis'), { appendonly: true });
const backend = await startStateBackend(path.join(dir, 'state'));
const setup: Setup = { redisUrl: redis.url, backend, workDir: path.join(dir, 'work') };
await mkdir(setup.workDir, { recursive: true });

const rows: Row[] = [];
let api: ApiResults | undefined;
try {
  for (const { workers, concurrency } of configs) {
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
  if (env.BENCH_SKIP_API !== '1') {
    log('API load');
    api = await runApiLoad(setup);
  }
} finally {
  await backend.stop();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}

const report = render(rows, api);
await mkdir(path.join(ROOT, 'docs'), { recursive: true });
await writeFile(path.join(ROOT, 'docs', 'benchmark.md'), report);
process.stdout.write(report);

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

function ratio(a: number, b: number): string {
  return (a / b).toFixed(2);
}

function render(rows: Row[], api: ApiResults | undefined): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '# tfcompute benchmark',
    '',
    `Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench\` on ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM,`,
    `${os.type()} ${os.release()}; Node.js ${process.versions.node}; ${version('terraform', ['version'])}; ${version('redis-server', ['--version'])}.`,
    'State backend: s3rver (S3) and dynalite (DynamoDB lock table) on the same machine. Stack: `test/fixtures/ok`',
    '(one `terraform_data`), so Terraform\'s own cost is as small as it gets and any overhead of ours shows.',
    '',
    '## 1. Pipeline throughput',
    '',
    'Wall time from the first request (or command) to the last stack `ready`, then from the first DELETE to the last',
    '`deleted`. *Raw*: `terraform apply` per stack with `TF_WORKSPACE` in a directory initialised beforehand, then',
    '`destroy` + `workspace delete`. *Original*: copy the configuration, `init`, `workspace new`, `apply`; for the delete',
    '`init`, `destroy`, `workspace delete`. All three at the same parallelism (workers × concurrency lanes).',
    '',
    '| W×C | N | ours create | raw create | original create | ours delete | raw delete | original delete | ours/raw | original/ours | failures |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ours = r.ours.createMs + r.ours.deleteMs;
    const raw = r.raw.createMs + r.raw.deleteMs;
    const original = r.original.createMs + r.original.deleteMs;
    lines.push(
      `| ${r.workers}×${r.concurrency} | ${r.n} | ${seconds(r.ours.createMs)} s | ${seconds(r.raw.createMs)} s | ${seconds(r.original.createMs)} s | ` +
        `${seconds(r.ours.deleteMs)} s | ${seconds(r.raw.deleteMs)} s | ${seconds(r.original.deleteMs)} s | ` +
        `${ratio(ours, raw)} (create ${ratio(r.ours.createMs, r.raw.createMs)}, delete ${ratio(r.ours.deleteMs, r.raw.deleteMs)}) | ` +
        `${ratio(original, ours)} | ${r.ours.failures}/${r.raw.failures}/${r.original.failures} |`,
    );
  }
  lines.push('', 'Targets: ours/raw ≤ 1.15; original/ours ≥ 2. Failures: ours/raw/original commands or jobs that failed.', '');

  lines.push('## 2. Growth and per-job overhead', '', '| W×C | wall N=1000 / N=100 (linear = 10) | overhead per stack (ours − raw, create + delete) |', '|---|---:|---:|');
  for (const { workers, concurrency } of configs) {
    const small = rows.find((r) => r.workers === workers && r.concurrency === concurrency && r.n === Math.min(...sizes));
    const large = rows.find((r) => r.workers === workers && r.concurrency === concurrency && r.n === Math.max(...sizes));
    if (!small || !large) continue;
    const total = (p: PhaseTimes) => p.createMs + p.deleteMs;
    const growth = sizes.length > 1 ? ratio(total(large.ours), total(small.ours)) : 'n/a';
    const lanes = workers * concurrency;
    const overhead = ((total(large.ours) - total(large.raw)) / large.n) * lanes;
    lines.push(`| ${workers}×${concurrency} | ${growth} | ${overhead.toFixed(1)} ms of lane time (${((total(large.ours) - total(large.raw)) / large.n).toFixed(1)} ms wall) |`);
  }
  lines.push('', 'Overhead is measured at the largest N; lane time is wall time × parallel lanes.', '');

  if (api) {
    const row = (name: string, r: LoadResult) =>
      `| ${name} | ${Math.round(r.requestsPerSecond)} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${r.non2xx + r.errors} |`;
    lines.push(
      '## 3. API alone',
      '',
      'No workers running, so a POST measures validation, the Redis transaction and the enqueue. autocannon, 10 connections,',
      '10 s per line, on the same machine as the API and Redis.',
      '',
      '| request | req/s | p50 | p99 | errors |',
      '|---|---:|---:|---:|---:|',
      row('`POST /api/ec2instance`', api.post),
      row('`GET /api/ec2instance/{id}`', api.get),
      '',
      'Targets: POST ≥ 2,000 req/s with p99 ≤ 25 ms; GET ≥ 5,000 req/s.',
      '',
      `## 4. Scale: ${api.scale.records.toLocaleString('en')} resource records`,
      '',
      '| request | req/s | p50 | p99 | errors |',
      '|---|---:|---:|---:|---:|',
      row('`GET /api/ec2instance?limit=20`', api.scale.listFirstPage),
      row('`GET /api/ec2instance?status=creating&limit=100`', api.scale.listFiltered),
      '',
      `API RSS: ${(api.scale.apiIdleRssBytes / 2 ** 20).toFixed(0)} MB idle, ${(api.scale.apiRssBytes / 2 ** 20).toFixed(0)} MB after all the load above, with the flags \`npm run api\` uses (\`${API_NODE_FLAGS.join(' ')}\`).`,
      `Redis memory per resource (record, job record, pending-job list, index entries): ${Math.round(api.scale.redisBytesPerResource)} bytes.`,
      '',
      'Targets: a page at p99 ≤ 20 ms; API RSS ≤ 150 MB.',
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}
