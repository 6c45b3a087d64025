// The state lock a job holds on its workspace for as long as it runs. With an
// S3 backend and a DynamoDB lock table, the worker takes the lock itself, in
// Terraform's own format, and runs Terraform with -lock=false: the lock then
// names the worker and the job (its Info reads "tfcompute job J on worker W"),
// and its holder renews a heartbeat in it while it works. A lock is taken
// from its holder only with proof that nothing runs Terraform under it any
// more; a lock held by a live worker, or by anyone else (a person running
// terraform), is waited for. Without a lock table, Terraform locks.
import { randomUUID } from 'node:crypto';
import type { HeldLock, S3State } from './s3-state.ts';

const INFO = /^tfcompute job ([0-9a-z]{16}) on worker (\S+)$/;

export type LockOwner = { workerId: string; jobId: string; operation: 'apply' | 'destroy' | 'plan' };

// Terraform's names for what a lock holder does (its lock info's Operation).
const OPERATION_TYPES = {
  apply: 'OperationTypeApply',
  destroy: 'OperationTypeDestroy',
  plan: 'OperationTypePlan',
} as const;

// The IDs of the locks held by attempts running in this process: a lock this
// worker left is stale only once no attempt here holds it.
const heldHere = new Set<string>();

// Thrown when the lock is held by someone who may be alive. `ours`: by an
// attempt of a tfcompute job, which is bound to let it go (it finishes, or
// stops and releases it, or its heartbeat goes quiet for `staleAfterMs`), so
// the job waits for it rather than spend an attempt.
export class LockHeldError extends Error {
  override name = 'LockHeldError';
  readonly ours: boolean;

  constructor(message: string, ours: boolean) {
    super(message);
    this.ours = ours;
  }
}

export type LockTiming = {
  // How often a holder renews its heartbeat in the lock.
  heartbeatMs: number;
  // How long a holder's heartbeat must be quiet before its lock is taken
  // when nothing else proves it gone: long enough for a worker cut off from
  // Redis and the backend to have noticed (its lease ran out) and stopped
  // its Terraform (the grace period), whatever it still reaches.
  staleAfterMs: number;
};

// A holder renews its heartbeat three times a lease. A worker cut off from
// everything notices within a lease (see ../lease.ts) and its Terraform is gone
// a grace period later; two heartbeats more allow for the one missed just
// before it was cut off and for clocks a little apart.
export function stateLockTiming(leaseMs: number, graceMs: number): LockTiming {
  const heartbeatMs = Math.max(100, Math.floor(leaseMs / 3));
  return { heartbeatMs, staleAfterMs: leaseMs + graceMs + 2 * heartbeatMs };
}

export type StateLockDeps = {
  s3State: S3State;
  timing: LockTiming;
  isWorkerAlive: (workerId: string) => Promise<boolean>;
  // Whether a job has finished (or its record expired).
  isJobOver: (jobId: string) => Promise<boolean>;
  log: (text: string) => void;
  // A heartbeat found the lock gone or someone else's: it was taken by hand
  // (terraform force-unlock), and Terraform must not go on under it.
  onLost: () => void;
};

// Returns the function that releases the lock.
export async function acquireStateLock(
  deps: StateLockDeps,
  workspace: string,
  owner: LockOwner,
): Promise<() => Promise<void>> {
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
  // Twice at most: once more after releasing a stale lock.
  for (let round = 0; round < 2; round += 1) {
    const held = await s3State.putLock(workspace, info);
    if (!held) return holdLock(deps, workspace, info.ID, raw);
    const holder =
      `${held.info.Who ?? 'unknown'}${held.info.Info ? ` (${held.info.Info})` : ''}, since ` +
      `${held.info.Created ?? 'an unknown time'}`;
    const ours = INFO.test(held.info.Info ?? '');
    const stale = ours ? await staleness(deps, held, owner) : undefined;
    if (!stale) throw new LockHeldError(`the state lock of workspace ${workspace} is held by ${holder}`, ours);
    if (await s3State.deleteLock(workspace, held.raw)) {
      deps.log(`Released a stale state lock left by ${held.info.Who ?? 'unknown'}: ${stale} (lock ${held.info.ID}).`);
    }
  }
  throw new LockHeldError(
    `the state lock of workspace ${workspace} was taken again while a stale lock was being released`,
    true,
  );
}

// Why a lock of a tfcompute job can be taken, or undefined while its holder
// may still be running Terraform under it.
async function staleness(deps: StateLockDeps, held: HeldLock, owner: LockOwner): Promise<string | undefined> {
  const [, jobId = '', workerId = ''] = INFO.exec(held.info.Info ?? '') ?? [];
  const { heartbeatMs, staleAfterMs } = deps.timing;
  // Locks from workers older than heartbeats have none: judged as they were.
  if (held.heartbeatMs === undefined) {
    if (await deps.isJobOver(jobId)) return `its job ${jobId} has finished`;
    if (!(await deps.isWorkerAlive(workerId))) return `worker ${workerId} is no longer alive (job ${jobId})`;
    return undefined;
  }
  const quietMs = Date.now() - held.heartbeatMs;
  // A holder renewing its heartbeat is alive and may be running Terraform,
  // whatever Redis says about its lease or its job.
  if (quietMs <= 2 * heartbeatMs) return undefined;
  // A holder that stopped renewing released its lock, or failed to: an
  // attempt of this job that ended here, or a job that ended.
  if (jobId === owner.jobId && workerId === owner.workerId && !heldHere.has(held.info.ID ?? ''))
    return 'an earlier attempt of this job left it';
  if (await deps.isJobOver(jobId)) return `its job ${jobId} has finished`;
  if (quietMs > staleAfterMs)
    return `worker ${workerId} has not renewed it for ${Math.round(quietMs / 1000)} s (job ${jobId})`;
  return undefined;
}

// Renews the lock's heartbeat until released; returns the release.
function holdLock(deps: StateLockDeps, workspace: string, id: string, raw: string): () => Promise<void> {
  heldHere.add(id);
  let lost = false;
  // The renewal in flight: a release waits for it, so a renewal that lands
  // after the delete cannot write the lock back.
  let renewing: Promise<unknown> = Promise.resolve();
  const heartbeat = setInterval(() => {
    renewing = deps.s3State.touchLock(workspace, raw).then(
      (ours) => {
        if (ours || lost) return;
        lost = true;
        deps.log(`The state lock of workspace ${workspace} was removed by someone else; interrupting Terraform.`);
        deps.onLost();
      },
      // Unreachable now; a holder cut off from the backend is also cut off
      // from writing state, and stops once its lease runs out.
      () => undefined,
    );
  }, deps.timing.heartbeatMs);
  return async () => {
    clearInterval(heartbeat);
    try {
      await renewing;
      await deps.s3State.deleteLock(workspace, raw);
    } finally {
      heldHere.delete(id);
    }
  };
}
