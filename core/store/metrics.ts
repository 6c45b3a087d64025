// Job durations, kept as a Prometheus histogram in Redis by the scripts that
// finish jobs (lua/includes/observe-duration.lua), and policy evaluations,
// counted by the workers that make them, so that every API process reports
// the same figures whichever worker ran the job.
import type { ContextOf } from './context.ts';

// The buckets, in seconds; observe-duration.lua holds the same list.
export const JOB_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];

export class Metrics {
  readonly #c: ContextOf<'redis' | 'keys'>;

  constructor(context: ContextOf<'redis' | 'keys'>) {
    this.#c = context;
  }

  // Counts each policy's evaluation by its outcome (passed, failed).
  async countPolicyEvaluations(results: ReadonlyArray<{ policyId: string; passed: boolean }>): Promise<void> {
    const pipeline = this.#c.redis.pipeline();
    for (const { policyId, passed } of results) {
      pipeline.hincrby(this.#c.keys.policyMetrics, `${policyId}|${passed ? 'passed' : 'failed'}`, 1);
    }
    await pipeline.exec();
  }

  // Fields "{policy id}|{outcome}" -> count.
  async policyEvaluations(): Promise<Record<string, string>> {
    return this.#c.redis.hgetall(this.#c.keys.policyMetrics);
  }

  // Fields "{action}|{outcome}|{le|count|sum}".
  async jobDurations(): Promise<Record<string, string>> {
    return this.#c.redis.hgetall(this.#c.keys.metrics);
  }
}
