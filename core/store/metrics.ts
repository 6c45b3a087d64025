// Job durations, kept as a Prometheus histogram in Redis by the scripts that
// finish jobs (lua/includes/observe-duration.lua), so that every API process
// reports the same figures whichever worker ran the job.
import type { StoreContext } from './context.ts';

// The buckets, in seconds; observe-duration.lua holds the same list.
export const JOB_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];

export class Metrics {
  readonly #c: StoreContext;

  constructor(context: StoreContext) {
    this.#c = context;
  }

  // Fields "{action}|{outcome}|{le|count|sum}".
  async jobDurations(): Promise<Record<string, string>> {
    return this.#c.redis.hgetall(this.#c.keys.metrics);
  }
}
