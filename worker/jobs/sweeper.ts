// Removes what a create left when its job never reached the queue: the API
// records the stack, then queues its job; if Redis goes away between the
// two (the client is told 503) and the API cannot undo the record either, a
// stack would wait in "creating" for ever. Such a record is removed once
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
    store.stacks
      .forgetDeleted()
      .catch((error: unknown) => logger.warn({ err: error }, 'forgetting deleted stacks failed'));
  }, SWEEP_EVERY_MS);
  return { stop: () => clearInterval(timer) };
}

export async function sweepUnqueuedCreates(deps: SweepDeps, graceMs = SWEEP_GRACE_MS): Promise<string[]> {
  const removed: string[] = [];
  for (const id of await deps.store.stacks.creatingSince(new Date(Date.now() - graceMs), 100)) {
    const stack = await deps.store.stacks.get(id);
    if (stack?.job.action !== 'create' || stack.job.status !== 'queued') continue;
    const job = await deps.store.jobs.get(stack.job.id);
    if (!job || job.attempts > 0 || (await deps.queue.getJob(stack.job.id))) continue;
    await deps.store.stacks.discard(id, stack.job.id, stack.created_by, undefined);
    deps.logger.warn({ stackId: id, jobId: stack.job.id }, 'removed a stack whose create job never reached the queue');
    removed.push(id);
  }
  return removed;
}
