// A worker's lease: a key in Redis it renews while it lives (core/store/
// leases.ts). BullMQ's job locks last as long, so once the lease has run out
// unrenewed, another worker may be running this worker's jobs. The worker
// then stops its own Terraform (`onLost`) rather than keep applying beside
// that one: a worker cut off from Redis fences itself.
import type { Store } from '../core/store/index.ts';
import { within } from '../core/within.ts';

export type WorkerLease = {
  // Time since the last renewal Redis confirmed.
  sinceRenewalMs(): number;
  stop(): void;
  // Stops renewing and gives the lease up, if Redis is there to hear it.
  end(connected: boolean): Promise<void>;
};

export async function startLease(options: {
  store: Store;
  workerId: string;
  leaseMs: number;
  // Called once each time the lease runs out unrenewed (again after it is renewed and lost once more).
  onLost: (sinceRenewalMs: number) => void;
  onError: (error: unknown) => void;
}): Promise<WorkerLease> {
  const { store, workerId, leaseMs } = options;
  // Counted from when the renewal was sent: Redis starts the key's time later.
  let renewedAt = performance.now();
  await store.leases.renew(workerId, leaseMs);
  let renewing = false;
  let lost = false;
  const renew = async () => {
    if (renewing) return;
    renewing = true;
    const sent = performance.now();
    try {
      await within(store.leases.renew(workerId, leaseMs), leaseMs);
      renewedAt = sent;
      lost = false;
    } catch (error) {
      options.onError(error);
    } finally {
      renewing = false;
    }
  };
  const renewal = setInterval(() => void renew(), Math.max(100, Math.floor(leaseMs / 3)));
  // Checked more often than renewed, so the fence comes soon after the lease ends.
  const watch = setInterval(
    () => {
      const since = performance.now() - renewedAt;
      if (lost || since < leaseMs) return;
      lost = true;
      options.onLost(Math.round(since));
    },
    Math.max(50, Math.floor(leaseMs / 10)),
  );
  const stop = () => {
    clearInterval(renewal);
    clearInterval(watch);
  };
  return {
    sinceRenewalMs: () => Math.round(performance.now() - renewedAt),
    stop,
    async end(connected) {
      stop();
      if (connected) await within(store.leases.end(workerId), 1_000);
    },
  };
}
