// The state lock a job holds on its workspace for as long as it runs. With an
// S3 backend and a DynamoDB lock table, the worker takes the lock itself, in
// Terraform's own format, and runs Terraform with -lock=false: the lock then
// names the worker and the job (its Info reads "tfcompute job J on worker W"),
// so a lock left behind by a worker that died is recognised as such and
// released, while a lock held by a live worker, or by anyone else (a person
// running terraform), is waited for. Without a lock table, Terraform locks.
import { randomUUID } from 'node:crypto';
import type { S3State } from './s3-state.ts';

const INFO = /^tfcompute job ([0-9a-z]{16}) on worker (\S+)$/;

export type LockOwner = { workerId: string; jobId: string; operation: 'apply' | 'destroy' | 'plan' };

// Terraform's names for what a lock holder does (its lock info's Operation).
const OPERATION_TYPES = { apply: 'OperationTypeApply', destroy: 'OperationTypeDestroy', plan: 'OperationTypePlan' } as const;

// Thrown when the lock is held by someone alive; the job is retried later.
export class LockHeldError extends Error {
  override name = 'LockHeldError';
}

export type StateLockDeps = {
  s3State: S3State;
  isWorkerAlive: (workerId: string) => Promise<boolean>;
  // Whether a job has finished (or its record expired): its Terraform has exited.
  isJobOver: (jobId: string) => Promise<boolean>;
  log: (text: string) => void;
};

// Returns the function that releases the lock.
export async function acquireStateLock(deps: StateLockDeps, workspace: string, owner: LockOwner): Promise<() => Promise<void>> {
  const { s3State } = deps;
  const info = {
    ID: randomUUID(),
    Operation: OPERATION_TYPES[owner.operation],
    Info: `tfcompute job ${owner.jobId} on worker ${owner.workerId}`,
    Who: `tfcompute-worker@${owner.workerId}`,
    Version: '1.11.4',
    Created: new Date().toISOString(),
    Path: s3State.lockId(workspace),
  };
  const raw = JSON.stringify(info);
  const release = async () => {
    await s3State.deleteLock(workspace, raw);
  };
  // Twice at most: once more after releasing a dead worker's lock.
  for (let round = 0; round < 2; round += 1) {
    const held = await s3State.putLock(workspace, info);
    if (!held) return release;
    const ours = INFO.exec(held.info.Info ?? '');
    const holder = `${held.info.Who ?? 'unknown'}${held.info.Info ? ` (${held.info.Info})` : ''}, since ${held.info.Created ?? 'an unknown time'}`;
    const [, jobId, workerId] = ours ?? [];
    if (!jobId || !workerId) throw new LockHeldError(`the state lock of workspace ${workspace} is held by ${holder}`);
    // A lock of ours is stale when nothing can be running Terraform under it:
    // an earlier attempt of this job on this worker, whose release failed
    // (the backend was unreachable); a job that has finished; a dead worker,
    // whose Terraform died with it.
    const stale =
      jobId === owner.jobId && workerId === owner.workerId
        ? `an earlier attempt of this job left it`
        : (await deps.isJobOver(jobId))
          ? `its job ${jobId} has finished`
          : !(await deps.isWorkerAlive(workerId))
            ? `worker ${workerId} is no longer alive (job ${jobId})`
            : undefined;
    if (!stale) throw new LockHeldError(`the state lock of workspace ${workspace} is held by ${holder}`);
    if (await s3State.deleteLock(workspace, held.raw)) {
      deps.log(`Released a stale state lock left by worker ${workerId}: ${stale} (lock ${held.info.ID}).`);
    }
  }
  throw new LockHeldError(`the state lock of workspace ${workspace} was taken again while a dead worker's lock was being released`);
}
