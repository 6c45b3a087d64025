// Renders the benchmark's figures as docs/benchmark.md.
import type { ApiResults, LoadResult } from './api-load.ts';
import type { ChangesResults, Spread } from './changes.ts';
import type { EventsResults } from './events.ts';
import type { PhaseTimes } from './pipeline.ts';
import type { RetentionResults } from './retention.ts';
import { seconds } from './processes.ts';

export type Row = {
  workers: number;
  concurrency: number;
  n: number;
  ours: PhaseTimes;
  raw: PhaseTimes;
  original?: PhaseTimes;
};
// Ours at `workspaces` workspaces: `seeded` written beforehand, `n` created and deleted.
export type SeededRun = {
  workspaces: number;
  seeded: number;
  workers: number;
  concurrency: number;
  n: number;
  ours: PhaseTimes;
};

export type BenchResults = {
  date: string;
  machine: string;
  software: string;
  apiNodeFlags: string;
  command?: string;
  loadAverage?: { before: number[]; after: number[] };
  rows: Row[];
  seeded?: SeededRun;
  api?: ApiResults;
  changes?: ChangesResults;
  events?: EventsResults;
  retention?: RetentionResults;
};

function ratio(a: number, b: number): string {
  return (a / b).toFixed(2);
}

const total = (p: PhaseTimes) => p.createMs + p.deleteMs;
const orDash = (p: PhaseTimes | undefined, pick: (p: PhaseTimes) => string) => (p ? pick(p) : '—');

export function render(results: BenchResults): string {
  const { rows, api } = results;
  const load = results.loadAverage;
  const lines = [
    '# tfcompute benchmark',
    '',
    `Run ${results.date} with \`${results.command ?? 'npm run bench'}\` on ${results.machine}; ${results.software}.`,
    ...(load
      ? [
          `Load average (1, 5, 15 min) ${load.before.map((x) => x.toFixed(2)).join(', ')} at the start, ${load.after.map((x) => x.toFixed(2)).join(', ')} at the end: figures compare only with others of the same run.`,
        ]
      : []),
    'State backend: s3rver (S3) and dynalite (DynamoDB lock table) on the same machine, every S3 request through a proxy',
    "that counts it. Stack: `test/fixtures/ok` (one `terraform_data`), so Terraform's own cost is as small as it gets and",
    'any overhead of ours shows. The figures are also in `docs/benchmark.json`.',
    '',
    ...renderPipeline(rows),
    ...renderGrowth(rows, results.seeded),
  ];
  if (api) {
    const row = (name: string, r: LoadResult) =>
      `| ${name} | ${Math.round(r.requestsPerSecond)} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${r.non2xx + r.errors} |`;
    lines.push(
      '## 3. API alone',
      '',
      'No workers running, so a POST measures validation, the Redis transaction and the enqueue. autocannon, 10 connections,',
      '10 s per line, in the benchmark process on the same machine as the API and Redis.',
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
      `API RSS: ${(api.scale.apiIdleRssBytes / 2 ** 20).toFixed(0)} MB idle, ${(api.scale.apiRssBytes / 2 ** 20).toFixed(0)} MB after all the load above, with the flags \`npm run api\` uses (\`${results.apiNodeFlags}\`).`,
      `Redis memory per resource (record, job record, pending-job list, index entries): ${Math.round(api.scale.redisBytesPerResource)} bytes.`,
      '',
      'Targets: a page (20 items) at p99 ≤ 20 ms; API RSS ≤ 150 MB. A page costs one sorted-set range and one pipelined',
      'read of its records, whatever the total; the 100-item page reads five times as many.',
      '',
    );
  }
  if (results.changes) lines.push(...renderChanges(results.changes));
  if (results.events) lines.push(...renderEvents(results.events));
  if (results.retention) lines.push(...renderRetention(results.retention));
  return `${lines.join('\n')}\n`;
}

// Section 1: throughput against raw Terraform and the original project's way, and where the CPU went.
export function renderPipeline(rows: Row[]): string[] {
  const lines = [
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
    lines.push(
      `| ${r.workers}×${r.concurrency} | ${r.n} | ${seconds(r.ours.createMs)} s | ${seconds(r.raw.createMs)} s | ${orDash(r.original, (o) => `${seconds(o.createMs)} s`)} | ` +
        `${seconds(r.ours.deleteMs)} s | ${seconds(r.raw.deleteMs)} s | ${orDash(r.original, (o) => `${seconds(o.deleteMs)} s`)} | ` +
        `${ratio(total(r.ours), total(r.raw))} (create ${ratio(r.ours.createMs, r.raw.createMs)}, delete ${ratio(r.ours.deleteMs, r.raw.deleteMs)}) | ` +
        `${orDash(r.original, (o) => ratio(total(o), total(r.ours)))} | ${r.ours.failures}/${r.raw.failures}/${orDash(r.original, (o) => String(o.failures))} |`,
    );
  }
  lines.push(
    '',
    'Targets: ours/raw ≤ 1.15; original/ours ≥ 2. Failures: ours/raw/original jobs or commands that failed (— not run).',
    "Our delete beats raw because the worker removes the empty workspace's state object in S3 itself instead of",
    'starting `terraform workspace delete`.',
    '',
  );
  const measured = rows.filter((r) => r.ours.cpu);
  if (measured.length === 0) return lines;
  lines.push(
    '### Worker scaling, and where the CPU goes',
    '',
    'Ours only, during the create phase: stacks a second, and CPU in cores (CPU seconds over wall seconds, from `/proc`):',
    "Terraform (the workers' reaped children), the workers' and the API's Node.js, redis-server, and the benchmark's own",
    'process (s3rver, dynalite, the counting proxy and the HTTP client), beside the whole machine, whose busy time also',
    'counts whatever else ran on it (*others*).',
    '',
    '| W×C | N | creates/s | deletes/s | Terraform | workers | API | Redis | emulators + driver | machine busy | others |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of measured) {
    const c = r.ours.cpu!.create;
    const cores = (x: number) => (x / c.wallSeconds).toFixed(2);
    const ours = c.terraform + c.workers + c.api + c.redis + c.emulators;
    lines.push(
      `| ${r.workers}×${r.concurrency} | ${r.n} | ${(r.n / (r.ours.createMs / 1000)).toFixed(1)} | ${(r.n / (r.ours.deleteMs / 1000)).toFixed(1)} | ` +
        `${cores(c.terraform)} | ${cores(c.workers)} | ${cores(c.api)} | ${cores(c.redis)} | ${cores(c.emulators)} | ${cores(c.machine)} of ${c.cores} | ${cores(Math.max(0, c.machine - ours))} |`,
    );
  }
  lines.push('');
  return lines;
}

const perJob = (n: number, x: number) => (x / n).toFixed(1);
const listedKeys = (p: PhaseTimes, phase: 'create' | 'delete') =>
  (p.s3?.[phase].listings ?? [])
    .filter((l) => !l.prefix.startsWith('tfcompute-plans/'))
    .reduce((sum, l) => sum + l.keys, 0);

// Section 2: how a job's cost grows with the workspaces in the bucket.
export function renderGrowth(rows: Row[], seeded: SeededRun | undefined): string[] {
  const sizes = [...new Set(rows.map((r) => r.n))];
  const configs = [...new Map(rows.map((r) => [`${r.workers}x${r.concurrency}`, r])).values()];
  const lines = [
    '## 2. Growth and per-job overhead',
    '',
    `| W×C | growth N=${Math.max(...sizes)} / N=${Math.min(...sizes)}, ours (linear = ${Math.max(...sizes) / Math.min(...sizes)}) | same, raw | create ours/raw by N | create overhead per stack (ours − raw) | create + delete, per stack |`,
    '|---|---:|---:|---|---:|---:|',
  ];
  for (const c of configs) {
    const mine = rows.filter((r) => r.workers === c.workers && r.concurrency === c.concurrency);
    const mySizes = [...new Set(mine.map((r) => r.n))];
    if (mySizes.length < 2) continue;
    const small = mine.find((r) => r.n === Math.min(...mySizes));
    const large = mine.find((r) => r.n === Math.max(...mySizes));
    if (!small || !large) continue;
    const lanes = c.workers * c.concurrency;
    const growth = (pick: (r: Row) => PhaseTimes) => ratio(total(pick(large)), total(pick(small)));
    const createWall = (large.ours.createMs - large.raw.createMs) / large.n;
    const bothWall = (total(large.ours) - total(large.raw)) / large.n;
    lines.push(
      `| ${c.workers}×${c.concurrency} | ${growth((r) => r.ours)} | ${growth((r) => r.raw)} | ${mine.map((r) => `N=${r.n}: ${ratio(r.ours.createMs, r.raw.createMs)}`).join('; ')} | ` +
        `${createWall.toFixed(1)} ms wall, ${(createWall * lanes).toFixed(1)} ms of lane time | ${bothWall.toFixed(1)} ms wall |`,
    );
  }
  lines.push(
    '',
    'Overheads at the largest N; lane time is wall time × parallel lanes. Goals: growth ≤ 10.5 and create ours/raw ≤ 1.05.',
    'Terraform 1.11.4 lists the workspaces (`ListObjectsV2` over the workspace prefix) on every `apply` and `destroy`;',
    "raw Terraform lists every stack's, so its jobs cost more the more stacks exist. Each of our stacks has a",
    '`workspace_key_prefix` of its own (`tfcompute-stacks/<id>`), so its listing returns its own workspace only.',
    '',
    '### S3 requests per job',
    '',
    'Counted at the proxy in front of s3rver, per stack created or deleted; *keys listed*: the keys all the',
    '`ListObjectsV2` answers of the phase returned (a real S3 answers 1,000 a request), per stack. Saved-plan listings aside.',
    '',
    '| run | N | workspaces at most | ours create: requests (lists) | keys listed | ours delete: requests (lists) | keys listed | raw create: requests (lists) | keys listed | raw delete: requests (lists) | keys listed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const s3Cells = (p: PhaseTimes | undefined, n: number) =>
    (['create', 'delete'] as const)
      .map((phase) => {
        const counts = p?.s3?.[phase];
        if (!p || !counts) return '— | —';
        return `${perJob(n, counts.requests)} (${perJob(n, counts.byOperation.ListObjectsV2 ?? 0)}) | ${perJob(n, listedKeys(p, phase))}`;
      })
      .join(' | ');
  for (const r of rows)
    lines.push(
      `| ${r.workers}×${r.concurrency} | ${r.n} | ${r.n} | ${s3Cells(r.ours, r.n)} | ${s3Cells(r.raw, r.n)} |`,
    );
  if (seeded)
    lines.push(
      `| ${seeded.workers}×${seeded.concurrency}, ${seeded.seeded.toLocaleString('en')} pre-seeded | ${seeded.n} | ${seeded.workspaces} | ${s3Cells(seeded.ours, seeded.n)} | ${s3Cells(undefined, seeded.n)} |`,
    );
  lines.push('');
  if (seeded) {
    const perStack = (p: PhaseTimes, n: number) => `${(total(p) / n).toFixed(1)} ms`;
    const same = rows.filter((r) => r.workers === seeded.workers && r.concurrency === seeded.concurrency);
    lines.push(
      `### Ours at ${seeded.workspaces.toLocaleString('en')} workspaces`,
      '',
      `${seeded.seeded.toLocaleString('en')} workspaces' state written to the bucket beforehand (where tfcompute keeps it), then ${seeded.n} stacks created and`,
      `deleted through tfcompute at ${seeded.workers}×${seeded.concurrency}: create ${seconds(seeded.ours.createMs)} s, delete ${seconds(seeded.ours.deleteMs)} s, ` +
        `${perStack(seeded.ours, seeded.n)} of wall time a stack (create + delete), against ${same.map((r) => `${perStack(r.ours, r.n)} at N=${r.n}`).join(', ')} in the same run.`,
      `Growth N=${seeded.workspaces} / N=${Math.min(...sizes)}, per stack: ${same.length > 0 ? ratio(total(seeded.ours) / seeded.n, Math.min(...same.map((r) => total(r.ours) / r.n))) : 'n/a'} (flat = 1).`,
      '',
    );
  }
  const largest = rows.filter((r) => r.ours.redisBytesPerResource !== undefined).sort((a, b) => b.n - a.n)[0];
  if (largest)
    lines.push(
      `Redis memory per ready stack after the creates of the ${largest.workers}×${largest.concurrency}, N=${largest.n} run (records, indexes, jobs, logs, events, BullMQ's kept jobs): ${Math.round(largest.ours.redisBytesPerResource ?? 0).toLocaleString('en')} bytes.`,
      '',
    );
  return lines;
}

// Section 5, on its own so it can be pasted into a report the rest of the bench did not rewrite.
export function renderChanges(changes: ChangesResults): string[] {
  const ms = (s: Spread) => `${s.median} ms (p95 ${s.p95} ms, n=${s.n})`;
  return [
    '## 5. Changing stacks, and drift checks',
    '',
    'Stack: `test/fixtures/changes` (two `terraform_data` instances, a third added by the update). One API and one worker',
    '(`WORKER_CONCURRENCY=2`, `DRIFT_CHECK_CONCURRENCY=1`); requests one after another, with `Prefer: wait`.',
    '',
    `- PATCH (\`node_count\` 2 → 3) to \`planned\`: ${ms(changes.planMs)}; approval to \`ready\`: ${ms(changes.approveMs)}.`,
    `- One drift check (a plan-only job, start to finish, ${changes.check.stacks} idle stacks, \`DRIFT_CHECK_INTERVAL=1s\`): ${ms(changes.check.durationMs)}.`,
    `- Checks one worker runs: ${changes.check.perHourIdle.toLocaleString('en')} an hour with no user traffic; ${changes.check.perHourBesideUsers.toLocaleString('en')} an hour beside a user sending`,
    `  \`auto_apply\` updates one after another to 5 of the stacks.`,
    `- That user's update (PATCH to \`ready\`), ${changes.users.windowSeconds} s of them: ${ms(changes.users.withoutChecks)} without drift checks; ${ms(changes.users.withChecks)} with them.`,
    '',
  ];
}

// Section 6, on its own like section 5.
export function renderEvents(events: EventsResults): string[] {
  const ms = (s: Spread) => `${s.median} ms (p95 ${s.p95} ms)`;
  const baseline = events.rows[0]?.batchMs.median ?? 1;
  const lines = [
    '## 6. Lifecycle events beside the stacks',
    '',
    `A batch of ${events.stacks} creates (\`test/fixtures/ok\`) from four clients at once, to the last stack \`ready\`, with no webhook`,
    "and with one webhook whose receiver is healthy, or behind the tests' fault-injecting proxy down, 5 s slow, or resetting",
    `the connection once its answer has begun; ${events.rounds} rounds, the variants taking turns. One API and one worker`,
    '(`WORKER_CONCURRENCY=2`), delivery settings at their defaults (first retry after 2.5-5 s, doubling). *Healed*: from the',
    'end of the fault (when the batch was ready) to the last of its events received.',
    '',
    '| receiver | batch to ready: median of rounds (min-max) | median vs no webhook | POST latency | healed after | duplicates received | events received per stack |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of events.rows) {
    const change = ((row.batchMs.median / baseline - 1) * 100).toFixed(1);
    lines.push(
      `| ${row.variant} | ${row.batchMs.median} ms (${row.batchMs.min}-${row.batchMs.max}) | ${row.variant === 'no webhook' ? '—' : `${Number(change) >= 0 ? '+' : ''}${change} %`} | ${ms(row.postMs)} | ${row.healMs ? ms(row.healMs) : '—'} | ${row.variant === 'no webhook' ? '—' : row.duplicates} | ${row.variant === 'no webhook' ? '—' : row.deliveredPerStack.toFixed(1)} |`,
    );
  }
  lines.push(
    '',
    `Events recorded per status change: ${events.eventsPerChange.toFixed(2)} (five changes per create: job queued, stack creating, job running, job succeeded, stack ready).`,
    '',
  );
  return lines;
}

// Section 7, on its own like section 5.
export function renderRetention(retention: RetentionResults): string[] {
  const bytes = (n: number) => `${Math.round(n).toLocaleString('en')} bytes`;
  return [
    '## 7. Redis memory per deleted stack',
    '',
    `${retention.cycles.toLocaleString('en')} stacks created and deleted beside ${retention.live} live ones, recorded directly in the store (no Terraform), half deleted`,
    "before their create ran; `MEMORY USAGE` of every key under the installation's prefix, less what the live stacks take.",
    '',
    `- During the retention period (\`JOB_RETENTION_DAYS\`): ${bytes(retention.bytesPerDeletedInWindow)} per deleted stack (its record, index entries, jobs and logs).`,
    `- After it: ${bytes(retention.bytesPerDeletedAfter)} per deleted stack after the retention window (an index keeps the table it grew to, whatever came and went).`,
    `- The events outbox, trimmed a day after its entries are sent: ${bytes(retention.outboxBytesPerCycle)} per create and delete.`,
    '',
  ];
}
