// Removes what a create left when its job never reached the queue: the API
// records the resource, then queues its job; if Redis goes away between the
// two (the client is told 503) and the API cannot undo the record either, a
// resource would wait in "creating" for ever. Such a record is removed once
// it is older than the grace period, unless the job has been queued since (a
// client retrying with the same Idempotency-Key queues it).
import type { Logger } from '../../core/logger.ts';
import type { JobQueue } from '../../core/queue.ts';
import type { Store } from '../../core/store/index.ts';

const SWEEP_EVERY_MS = 60_000;
export const SWEEP_GRACE_MS = 120_000;

type SweepDeps = { store: Store; queue: JobQueue; logger: Logger };

// Every minute: creates that never reached the queue, and deleted stacks
// past the retention period (kept as long as their jobs are).
export function startSweeper(deps: SweepDeps): { stop(): void } {
  const { store, logger } = deps;
  const timer = setInterval(() => {
    sweepUnqueuedCreates(deps).catch((error: unknown) => logger.warn({ err: error }, 'sweep failed'));
    store.resources
      .forgetDeleted()
      .catch((error: unknown) => logger.warn({ err: error }, 'forgetting deleted stacks failed'));
  }, SWEEP_EVERY_MS);
  return { stop: () => clearInterval(timer) };
}

export async function sweepUnqueuedCreates(deps: SweepDeps, graceMs = SWEEP_GRACE_MS): Promise<string[]> {
  const removed: string[] = [];
  for (const id of await deps.store.resources.creatingSince(new Date(Date.now() - graceMs), 100)) {
    const resource = await deps.store.resources.get(id);
    if (resource?.job.action !== 'create' || resource.job.status !== 'queued') continue;
    const job = await deps.store.jobs.get(resource.job.id);
    if (!job || job.attempts > 0 || (await deps.queue.getJob(resource.job.id))) continue;
    await deps.store.resources.discard(id, resource.job.id, resource.created_by, undefined);
    deps.logger.warn(
      { resourceId: id, jobId: resource.job.id },
      'removed a resource whose create job never reached the queue',
    );
    removed.push(id);
  }
  return removed;
}
